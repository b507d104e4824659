from django.contrib.auth import views as auth_views
from django.urls import path

from lakegate_server.dashboard.views import datasets, home, quarantine, runs, tokens

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
    path("quarantine/", quarantine.quarantine_index, name="quarantine"),
    path("quarantine/<str:entry_id>/retry/", quarantine.quarantine_retry_view, name="quarantine_retry"),
    path("tokens/", tokens.token_index, name="tokens"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke_view, name="token_revoke"),
]
