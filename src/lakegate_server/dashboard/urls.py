from django.contrib.auth import views as auth_views
from django.urls import path

from lakegate_server.dashboard.views import datasets, home, knowledge, ledger, quarantine, runs, tokens
from lakegate_server.dashboard.views import models as model_views
from lakegate_server.dashboard.views import quality as quality_views

app_name = "dashboard"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="dashboard/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
    path("", home.home, name="home"),
    path("datasets/", datasets.dataset_index, name="datasets"),
    path("datasets/<str:name>/", datasets.dataset_detail, name="dataset"),
    path("datasets/<str:name>/diff/", datasets.dataset_diff, name="dataset_diff"),
    path("upload/", datasets.dataset_upload, name="upload"),
    path("runs/", runs.run_index, name="runs"),
    path("runs/selfcheck/", runs.selfcheck_start, name="selfcheck"),
    path("runs/<int:run_id>/", runs.run_detail, name="run"),
    path("runs/<int:run_id>/log/", runs.run_log, name="run_log"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel_view, name="run_cancel"),
    path("kb/", knowledge.kb_index, name="kb"),
    path("kb/build/", knowledge.kb_build_view, name="kb_build"),
    path("kb/<str:name>/", knowledge.kb_detail, name="kb_detail"),
    path("quarantine/", quarantine.quarantine_index, name="quarantine"),
    path("quarantine/<str:entry_id>/retry/", quarantine.quarantine_retry_view, name="quarantine_retry"),
    path("models/", model_views.model_index, name="models"),
    path("models/<str:name>/", model_views.model_detail, name="model"),
    path("models/<str:name>/drift/", model_views.model_drift_report, name="model_drift"),
    path("models/<str:name>/versions/<int:number>/card/", model_views.model_card, name="model_card"),
    path(
        "models/<str:name>/versions/<int:number>/promote/",
        model_views.model_promote_view,
        name="model_promote",
    ),
    path(
        "models/<str:name>/versions/<int:number>/rollback/",
        model_views.model_rollback_view,
        name="model_rollback",
    ),
    path("pipelines/<str:name>/run/", model_views.pipeline_run_view, name="pipeline_run"),
    path("quality/", quality_views.quality_index, name="quality"),
    path("quality/reports/<int:report_id>/", quality_views.report_detail, name="report"),
    path("quality/reports/<int:report_id>/html/", quality_views.report_html_view, name="report_html"),
    path(
        "datasets/<str:name>/versions/<int:number>/check/",
        quality_views.version_check_view,
        name="version_check",
    ),
    path(
        "datasets/<str:name>/versions/<int:number>/approve/",
        quality_views.version_approve_view,
        name="version_approve",
    ),
    path(
        "datasets/<str:name>/versions/<int:number>/reject/",
        ledger.version_reject_view,
        name="version_reject",
    ),
    path(
        "datasets/<str:name>/versions/<int:number>/revoke/",
        ledger.version_revoke_view,
        name="version_revoke",
    ),
    path("ledger/", ledger.ledger_index, name="ledger"),
    path("tokens/", tokens.token_index, name="tokens"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke_view, name="token_revoke"),
]
