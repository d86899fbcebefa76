"""Sign-in, sign-out, password reset, sign-up with email confirmation, the brand logo.

Thin views over Django's auth views and ``kefu.accounts.actions``; the pages share the
portal's look (``portal/base.html``) because customers and agents both start here.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from . import actions
from .forms import PasswordResetForm, RegistrationForm, SetPasswordForm, SignInForm, apply_errors
from .models import AccountSettings, User


def home_url(user: User) -> str:
    """Where a person lands after signing in: agents in the workspace, customers in the
    portal."""
    return "/agent/" if user.is_agent else reverse("portal:home")


class SignInView(auth_views.LoginView):
    """Email + password. Django rotates the session key on sign-in; django-axes counts
    failures (see ``locked_out``)."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return home_url(self.request.user)  # type: ignore[arg-type]

    def get_initial(self) -> dict[str, Any]:
        return {"username": self.request.GET.get("email", "")[:254]}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["allow_registration"] = AccountSettings.load().allow_registration
        return context


def locked_out(request: HttpRequest, response: Any, credentials: dict[str, Any]) -> HttpResponse:
    """django-axes' lockout answer: the sign-in page again, with the reason, as 429."""
    from django.conf import settings

    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    # An unbound form: validating it would try (and count) the sign-in once more.
    form = SignInForm(request, initial={"username": request.POST.get("username", "")[:254]})
    context = {
        "form": form,
        "lockout_message": _("Too many failed sign-in attempts. Try again in %(minutes)s minutes.")
        % {"minutes": minutes},
        "allow_registration": AccountSettings.load().allow_registration,
        "next": request.GET.get("next", ""),
    }
    return render(request, "accounts/login.html", context, status=429)


class SignOutView(auth_views.LogoutView):
    """POST only (Django refuses GET), so a link or an image cannot sign people out."""


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Also where invited agents choose their first password."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@sensitive_post_parameters("password", "password_again")
@csrf_protect
@never_cache
def register(request: HttpRequest) -> HttpResponse:
    """Customer sign-up. The answer is the same whether or not the address is known."""
    if request.user.is_authenticated:
        return redirect(home_url(request.user))
    if not AccountSettings.load().allow_registration:
        return render(request, "accounts/register_closed.html", status=404)
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.register_end_user(
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                locale=get_language() or "",
            )
        except ValidationError as exc:
            apply_errors(form, _password_errors_on_field(exc))
        else:
            request.session["registered_email"] = form.cleaned_data["email"]
            return redirect("accounts:register_done")
    return render(request, "accounts/register.html", {"form": form})


def _password_errors_on_field(exc: ValidationError) -> ValidationError:
    """``validate_password`` raises a plain list; it belongs next to the password field."""
    if hasattr(exc, "error_dict"):
        return exc
    return ValidationError({"password": exc.messages})


def register_done(request: HttpRequest) -> HttpResponse:
    email = request.session.get("registered_email", "")
    return render(request, "accounts/register_done.html", {"email": email})


def verify(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the confirmation email: activates the account, then asks to sign in."""
    try:
        user = actions.verify_registration(token)
    except ValidationError as exc:
        return render(request, "accounts/verify_failed.html", {"errors": exc.messages}, status=400)
    messages.success(request, _("Your email address is confirmed. Sign in to continue."))
    return redirect(f"{reverse('accounts:login')}?email={user.email}")


def logo(request: HttpRequest) -> FileResponse:
    """The company logo (public: the sign-in page and the portal show it)."""
    settings = AccountSettings.load()
    if not settings.logo:
        raise Http404
    try:
        handle = settings.logo.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "public, max-age=300"
    return response
