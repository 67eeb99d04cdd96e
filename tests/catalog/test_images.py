"""Feed pictures: fetched by the worker from a server on loopback, checked, thumbnailed."""

from __future__ import annotations

import contextlib
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from clienteling.catalog import services
from clienteling.catalog.ingest import catalog_ingest
from clienteling.catalog.models import Product
from tests.conftest import wait_for


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (900, 1200), (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


FILES = {
    "/good.png": (200, _png()),
    "/not-a-picture.jpg": (200, b"<html>sorry</html>"),
    "/gone.jpg": (404, b""),
    "/down.jpg": (503, b""),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = FILES.get(self.path, (404, b""))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _picture_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def picture_server():
    with _picture_server() as base:
        yield base


def _feed(sku: str, url: str) -> Product:
    result = catalog_ingest(
        [
            {
                "sku": sku,
                "name": "Pump",
                "brand": "B",
                "category": "Shoes",
                "price": "100",
                "image_urls": [url],
            }
        ],
        source="t",
    )
    assert result.errors == {}
    return Product.objects.get(sku=sku)


@pytest.mark.django_db
def test_a_good_picture_is_stored_and_thumbnailed(picture_server):
    product = _feed("P-1", f"{picture_server}/good.png")

    assert services.product_fetch_image(product=product) is True

    product.refresh_from_db()
    assert product.image.name == "products/P-1/original.png"
    assert product.thumbnail.name == "products/thumbs/P-1.webp"
    assert product.image_error == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "message"),
    [("/not-a-picture.jpg", "not a picture"), ("/gone.jpg", "answered 404")],
)
def test_a_bad_picture_leaves_the_product_without_one_and_says_why(picture_server, path, message):
    product = _feed("P-2", f"{picture_server}{path}")

    assert services.product_fetch_image(product=product) is False

    product.refresh_from_db()
    assert not product.image
    assert message in product.image_error


@pytest.mark.django_db
def test_a_server_error_is_retried_not_recorded(picture_server):
    product = _feed("P-3", f"{picture_server}/down.jpg")

    with pytest.raises(services.ImageFetchRetry):
        services.product_fetch_image(product=product)


@pytest.mark.worker
def test_the_worker_fetches_feed_pictures_after_commit(celery_worker, picture_server):
    _feed("P-4", f"{picture_server}/good.png")
    _feed("P-5", f"{picture_server}/not-a-picture.jpg")

    wait_for(lambda: Product.objects.get(sku="P-4").thumbnail.name)
    wait_for(lambda: Product.objects.get(sku="P-5").image_error)
    assert Product.objects.get(sku="P-4").image.name == "products/P-4/original.png"
    assert not Product.objects.get(sku="P-5").image
