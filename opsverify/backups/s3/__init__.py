"""Backups in S3-compatible object storage (AWS S3, MinIO, Ceph RGW, R2, B2, Wasabi, GCS interop): one client."""
