from __future__ import annotations

from django.urls import path, re_path

from clientcheck_server.accounts import oidc, signin
from clientcheck_server.alerts import views as alerts
from clientcheck_server.dashboard.views import account, hosts, manage, overview, rules, static

urlpatterns = [
    path("", overview.overview_page, name="overview"),
    path("signin", signin.signin, name="signin"),
    path("signout", signin.signout, name="signout"),
    path("signin/oidc", oidc.start, name="oidc-start"),
    path("signin/oidc/callback", oidc.callback, name="oidc-callback"),
    path("static/<str:name>", static.asset, name="asset"),
    path("hosts", hosts.host_list, name="hosts"),
    re_path(r"^hosts\.(?P<fmt>csv|json)$", hosts.host_export, name="hosts-export"),
    path("hosts/<int:host_id>", hosts.host_page, name="host"),
    re_path(r"^hosts/(?P<host_id>[0-9]+)/report\.(?P<fmt>html|json)$", hosts.host_report, name="host-report"),
    re_path(r"^hosts/(?P<host_id>[0-9]+)/history\.(?P<fmt>csv|json)$", hosts.history_export, name="host-history"),
    re_path(r"^hosts/(?P<host_id>[0-9]+)/(?P<action>archive|delete)$", hosts.host_remove, name="host-remove"),
    path("rules", rules.rule_list, name="rules"),
    re_path(r"^(?P<what>rules|products)\.(?P<fmt>csv|json)$", rules.rule_list_export, name="rules-export"),
    re_path(r"^rules/(?P<rule>[^/]+)$", rules.rule_page, name="rule"),
    re_path(r"^rules/(?P<rule>[^/]+)/hosts\.(?P<fmt>csv|json)$", rules.rule_export, name="rule-export"),
    path("secrets", manage.secrets, name="secrets"),
    path("secrets/<int:secret_id>/revoke", manage.secret_revoke, name="secret-revoke"),
    path("tokens", manage.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke", manage.token_revoke, name="token-revoke"),
    path("users", manage.users, name="users"),
    path("users/new", manage.user_edit, name="user-new"),
    path("users/<int:user_id>", manage.user_edit, name="user-edit"),
    path("users/<int:user_id>/active", manage.user_active, name="user-active"),
    path("settings", manage.fleet_settings, name="settings"),
    path("audit", manage.audit, name="audit"),
    re_path(r"^audit\.(?P<fmt>csv|json)$", manage.audit_export, name="audit-export"),
    path("alerts", alerts.alerts, name="alerts"),
    re_path(
        r"^alerts/channels/(?P<channel_id>[0-9]+)/(?P<action>delete|toggle|test)$",
        alerts.channel_action,
        name="channel-action",
    ),
    path("account", account.account, name="account"),
]
