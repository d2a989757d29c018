from __future__ import annotations

from django.urls import path

from clientcheck_server.fleet.api import views

urlpatterns = [
    path("hosts", views.hosts, name="api-hosts"),
    path("hosts.csv", views.hosts_csv, name="api-hosts-csv"),
    path("hosts/<int:host_id>", views.host, name="api-host"),
    path("rules", views.rules, name="api-rules"),
    path("rules.csv", views.rules_csv, name="api-rules-csv"),
    path("rules/<str:rule>/hosts", views.rule_hosts, name="api-rule-hosts"),
    path("rules/<str:rule>/hosts.csv", views.rule_hosts_csv, name="api-rule-hosts-csv"),
    path("summary", views.summary, name="api-summary"),
]
