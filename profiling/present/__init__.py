"""Presentation: plotly figures, the stakeholder report and exports."""
