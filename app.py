"""Persona Studio: the router. Page config, navigation and the sidebar's dataset picker."""

if __name__ == "__mp_main__":
    # A worker process of profiling.jobs (multiprocessing "spawn") imports the main script
    # under this name before its first job: it must not start the app (nor import it).
    pass
else:
    import streamlit as st

    from ui import privacy, security
    from ui.data import active_slug
    from ui.embeddings import start_warm_up
    from ui.security import private_storage
    from ui.widgets import sidebar_dataset_picker

    st.set_page_config(page_title="Persona Studio", page_icon=":material/groups:", layout="wide")

    navigation = st.navigation(
        {
            "Explore": [
                st.Page(
                    "app_pages/overview.py",
                    title="Overview",
                    icon=":material/dashboard:",
                    default=True,
                ),
                st.Page(
                    "app_pages/map.py",
                    title="Profile map",
                    icon=":material/scatter_plot:",
                    url_path="map",
                ),
            ],
            "Audience": [
                st.Page("app_pages/segments.py", title="Segments", icon=":material/groups:"),
                st.Page(
                    "app_pages/user.py",
                    title="User profile",
                    icon=":material/person:",
                    url_path="user",
                ),
                st.Page(
                    "app_pages/changes.py",
                    title="What changed",
                    icon=":material/swap_horiz:",
                    url_path="changes",
                ),
            ],
            "Models": [
                st.Page(
                    "app_pages/recommenders.py", title="Recommenders", icon=":material/recommend:"
                ),
                st.Page(
                    "app_pages/predictions.py", title="Predictions", icon=":material/query_stats:"
                ),
            ],
            "Data": [
                st.Page("app_pages/data.py", title="Data", icon=":material/database:"),
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
