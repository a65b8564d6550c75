"""Reports: Allure labels, attachments, environment, categories, run summary, drill history."""
