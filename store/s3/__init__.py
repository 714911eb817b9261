"""A store on S3-compatible object storage (`s3://bucket/prefix`).

The primitives (conditional creates, compare-and-swap) are in `store/objstore.py`; this package
holds the reading side (a local mirror the ordinary reader reads) and the writing side (the
ordinary writer's files pushed with those primitives). docs/FORMAT.md, "Object storage".
"""
