"""The OpenRosa 1.0 server that ODK Collect and KoboCollect talk to.

A phone is given the server URL `https://<host>/openrosa/<project-slug>` and
appends the OpenRosa paths to it:

    GET  formList                     the project's open forms the user may collect for
    GET  forms/<form_id>/form.xml     the XForm made by pyxform from the published version
    GET  forms/<form_id>/manifest     the form's media files, each with its MD5
    GET  forms/<form_id>/media/<name> one media file
    HEAD submission                   204 with X-OpenRosa-Accept-Content-Length
    POST submission                   multipart: xml_submission_file plus attachments

Every request is authenticated (HTTP Basic, or an API token; see auth.py) and
every response carries `X-OpenRosa-Version: 1.0`. Submissions are converted to
incity's answer JSON (instance.py) and stored by `services.submissions.submit`,
so validation, consent, provenance, duplicates and audit are exactly the API's.
"""
