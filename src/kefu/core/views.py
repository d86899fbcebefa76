from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """200 when the process and its database answer; 503 naming the failing part otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return JsonResponse(
            {"status": "error", "database": "error", "detail": type(exc).__name__}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})
