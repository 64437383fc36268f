"""The invoices bucket (S3): each document's PDF written once, read by its version.

The bucket is versioned with Object Lock in compliance mode (eight years,
section 147 AO; infrastructure/stack.py): no object can be changed or deleted
while locked, but a second PUT of the same key would still add a version. So
the put is conditional (``If-None-Match: *``): a repeated delivery finds the
object there (412) and, when it holds the same bytes (the renderer is
deterministic), takes it as stored. Other bytes under the key are never
written: ``ArchiveConflict``.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.domain.archive import ArchivedPdf
from chalicelib.services.ports import ArchiveConflict

_EXISTS = {"PreconditionFailed", "ConditionalRequestConflict"}


def _checksum(sha256_hex: str) -> str:
    """S3's ChecksumSHA256: the digest in base64."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


class S3DocumentArchive:
    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self._bucket = bucket

    def store(
        self, key: str, pdf: bytes, *, sha256: str, at: datetime, retain_until: datetime
    ) -> ArchivedPdf:
        try:
            response = self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=pdf,
                ContentType="application/pdf",
                # S3 checks the bytes against it, and keeps it for HEAD; Object
                # Lock requires the algorithm's header on a put with retention.
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=_checksum(sha256),
                IfNoneMatch="*",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=retain_until,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _EXISTS:
                raise
            return self._existing(key, sha256, at)
        version = str(response["VersionId"])
        return ArchivedPdf(key=key, version_id=version, sha256=sha256, size=len(pdf), stored_at=at)

    def _existing(self, key: str, sha256: str, at: datetime) -> ArchivedPdf:
        head = self._client.head_object(Bucket=self._bucket, Key=key, ChecksumMode="ENABLED")
        if head.get("ChecksumSHA256") != _checksum(sha256):
            raise ArchiveConflict(key)
        return ArchivedPdf(
            key=key,
            version_id=str(head["VersionId"]),
            sha256=sha256,
            size=int(head["ContentLength"]),
            stored_at=at,
        )

    def read(self, pdf: ArchivedPdf) -> bytes:
        response = self._client.get_object(
            Bucket=self._bucket, Key=pdf.key, VersionId=pdf.version_id
        )
        body: bytes = response["Body"].read()
        return body

    def link(self, pdf: ArchivedPdf, *, filename: str, seconds: int) -> str:
        url: str = self._client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": pdf.key,
                "VersionId": pdf.version_id,
                "ResponseContentType": "application/pdf",
                "ResponseContentDisposition": f'inline; filename="{filename}"',
            },
            ExpiresIn=seconds,
        )
        return url
