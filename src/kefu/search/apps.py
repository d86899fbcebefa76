from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "kefu.search"
    label = "search"
    verbose_name = "Search"
