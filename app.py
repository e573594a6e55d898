"""Persona Studio: the router. Page config, navigation and the sidebar's dataset picker."""

if __name__ == "__mp_main__":
    # A worker process of profiling.jobs (multiprocessing "spawn") imports the main script
    # under this name before its first job: it must not start the app (nor import it).
    pass
else:
    import streamlit as st

    from profiling.vocabulary.i18n import gettext as _
    from ui import privacy, security
    from ui.data import active_slug
    from ui.embeddings import start_warm_up
    from ui.i18n import choose_language
    from ui.security import private_storage
    from ui.widgets import sidebar_dataset_picker

    st.set_page_config(page_title="Persona Studio", page_icon=":material/groups:", layout="wide")
    choose_language()  # ?lang=, the session's pick, the browser's; sets every word below

    navigation = st.navigation(
        {
            _("Explore"): [
                st.Page(
                    "app_pages/overview.py",
                    title=_("Overview"),
                    icon=":material/dashboard:",
                    default=True,
                ),
                st.Page(
                    "app_pages/map.py",
                    title=_("Profile map"),
                    icon=":material/scatter_plot:",
                    url_path="map",
                ),
            ],
            _("Audience"): [
                st.Page("app_pages/segments.py", title=_("Segments"), icon=":material/groups:"),
                st.Page(
                    "app_pages/user.py",
                    title=_("User profile"),
                    icon=":material/person:",
                    url_path="user",
                ),
                st.Page(
                    "app_pages/changes.py",
                    title=_("What changed"),
                    icon=":material/swap_horiz:",
                    url_path="changes",
                ),
            ],
            _("Models"): [
                st.Page(
                    "app_pages/recommenders.py",
                    title=_("Recommenders"),
                    icon=":material/recommend:",
                ),
                st.Page(
                    "app_pages/predictions.py",
                    title=_("Predictions"),
                    icon=":material/query_stats:",
                ),
            ],
            _("Data"): [
                st.Page("app_pages/data.py", title=_("Data"), icon=":material/database:"),
            ],
        }
    )
    private_storage()  # 0700 folders, 0600 files, expired uploads deleted
    start_warm_up()  # UMAP compiles in the background while the first page renders
    st.logo("assets/logo.svg", size="large")
    email = security.require_sign_in()  # with [auth] every page needs a signed-in user
    security.guard_workspace(active_slug(), email)
    sidebar_dataset_picker()
    privacy.sidebar_note(active_slug())
    navigation.run()
