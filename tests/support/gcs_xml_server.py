"""Google Cloud Storage's XML API for the tests: moto's S3 implementation.

object_store's GCS client speaks GCS's XML API, which Google made
interoperable with S3 (path-style URLs, the same list, multipart upload and
object requests and responses). With object_store's emulator credentials
(`disable_oauth` in the service-account key, as for fake-gcs-server) it
sends `Authorization: Bearer ` with an empty token, or none, which moto
would read as a malformed AWS signature or an unsigned request to some
other service; that header is given a placeholder before moto sees it.
Nothing else is changed. Usage: python gcs_xml_server.py PORT
"""
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def with_placeholder_bearer(app):
    def wrapped(environ, start_response):
        if environ.get("HTTP_AUTHORIZATION", "").strip() in ("", "Bearer"):
            environ["HTTP_AUTHORIZATION"] = "Bearer gcs-emulator"
        return app(environ, start_response)

    return wrapped


application = DomainDispatcherApplication(create_backend_app)
run_simple("127.0.0.1", int(sys.argv[1]), with_placeholder_bearer(application), threaded=True)
