"""The product images' bucket and the CloudFront distribution that serves it (docs/uploads.md).

* ``MediaBucket``: private (every public access blocked, ACLs off: the bucket owner owns every
  object), encrypted (SSE-S3), TLS only, a CORS rule for the console's browser uploads (the
  presigned POST policy is the guard), kept when the stack goes.
* ``MediaDistribution``: CloudFront over the bucket, HTTPS only, GET/HEAD, cached by path alone
  (a key is never reused: ``domain/media.py``). It reads the private bucket through its origin
  access: an **Origin Access Control** (SigV4-signed requests; the bucket policy allows the
  ``cloudfront.amazonaws.com`` service for this distribution's ARN only) where CloudFormation has
  one; in the China regions, where ``AWS::CloudFront::OriginAccessControl`` does not exist
  (cfn-lint's cn-north-1 and cn-northwest-1 schemas have no such type), the legacy **Origin Access
  Identity** (the bucket policy allows its canonical user).
* The functions' role may ``s3:PutObject`` and ``s3:GetObject`` (also HEAD) under ``products/`` and ``after-sales/``
  only (a presigned POST is signed with the role's credentials, so the upload acts as the role)
  and ``s3:ListBucket`` on the bucket, without which S3 answers 403 instead of 404 for a key that
  was never uploaded.
* Every function gets ``MEDIA_BUCKET`` and ``MEDIA_BASE_URL``: the stage's own ``MEDIA_BASE_URL``
  (an alternate domain, which the China regions require: the default ``*.cloudfront.cn`` domain
  serves nothing there without an ICP-recorded CNAME) with its certificate ``MEDIA_CERTIFICATE``
  (an IAM server certificate id in China, an ACM certificate ARN in us-east-1 elsewhere), else
  ``https://`` and the distribution's own domain.

Pure functions over dicts, like ``infra.template``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from chalicelib.domain.media import PREFIXES
from chalicelib.media import CORS_RULES

BUCKET, DISTRIBUTION, ORIGIN_ACCESS, CACHE = "MediaBucket", "MediaDistribution", "MediaOriginAccess", "MediaCache"
BUCKET_POLICY = "MediaBucketPolicy"
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject")
# products/ (product images) and after-sales/ (buyers' photos of their cases)
OBJECTS = [{"Fn::Sub": "arn:${AWS::Partition}:s3:::${" + BUCKET + "}/" + prefix + "*"}
           for prefix in sorted(set(PREFIXES.values()))]
YEAR = 365 * 86400


def china(region: str) -> bool:
    return region.startswith("cn-")


def media_resources(region: str, base_url: str = "", certificate: str = "") -> dict[str, dict[str, Any]]:
    """The bucket, its policy, the origin access, the cache policy and the distribution.
    ``base_url`` (the stage's ``MEDIA_BASE_URL``) names the distribution's alternate domain,
    served with ``certificate``; empty: CloudFront's own domain and certificate."""
    if base_url and not certificate:
        raise ValueError("MEDIA_BASE_URL names an alternate domain for CloudFront: set MEDIA_CERTIFICATE too")
    return {
        BUCKET: _bucket(),
        BUCKET_POLICY: _bucket_policy(region),
        ORIGIN_ACCESS: _origin_access(region),
        CACHE: _cache_policy(),
        DISTRIBUTION: _distribution(region, urlsplit(base_url).hostname or "", certificate),
    }


def _bucket() -> dict[str, Any]:
    return {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {
        "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                           "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
        "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        "BucketEncryption": {"ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]},
        "CorsConfiguration": {"CorsRules": [
            {"AllowedMethods": r["AllowedMethods"], "AllowedOrigins": r["AllowedOrigins"],
             "AllowedHeaders": r["AllowedHeaders"], "ExposedHeaders": r["ExposeHeaders"], "MaxAge": r["MaxAgeSeconds"]}
            for r in CORS_RULES]},
    }}


def _bucket_policy(region: str) -> dict[str, Any]:
    if china(region):
        reader: dict[str, Any] = {"Principal": {"CanonicalUser": {"Fn::GetAtt": [ORIGIN_ACCESS, "S3CanonicalUserId"]}}}
    else:
        source = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${" + DISTRIBUTION + "}"
        reader = {"Principal": {"Service": "cloudfront.amazonaws.com"},
                  "Condition": {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": source}}}}
    bucket_arn = {"Fn::GetAtt": [BUCKET, "Arn"]}
    return {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": BUCKET}, "PolicyDocument": {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "CloudFrontReadsImages", "Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECTS,
             **reader},
            {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [bucket_arn, {"Fn::Sub": "${" + BUCKET + ".Arn}/*"}],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ]}}}


def _origin_access(region: str) -> dict[str, Any]:
    if china(region):
        return {"Type": "AWS::CloudFront::CloudFrontOriginAccessIdentity", "Properties": {
            "CloudFrontOriginAccessIdentityConfig": {"Comment": {"Fn::Sub": "${AWS::StackName} product images"}}}}
    return {"Type": "AWS::CloudFront::OriginAccessControl", "Properties": {"OriginAccessControlConfig": {
        "Name": {"Fn::Sub": "${AWS::StackName}-media"}, "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always", "SigningProtocol": "sigv4"}}}


def _cache_policy() -> dict[str, Any]:
    return {"Type": "AWS::CloudFront::CachePolicy", "Properties": {"CachePolicyConfig": {
        "Name": {"Fn::Sub": "${AWS::StackName}-media"}, "MinTTL": 1, "DefaultTTL": YEAR, "MaxTTL": YEAR,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False, "EnableAcceptEncodingBrotli": False,  # images are compressed already
            "CookiesConfig": {"CookieBehavior": "none"}, "HeadersConfig": {"HeaderBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"}}}}}


def _distribution(region: str, domain: str, certificate: str) -> dict[str, Any]:
    origin: dict[str, Any] = {"Id": "media", "DomainName": {"Fn::GetAtt": [BUCKET, "RegionalDomainName"]}}
    if china(region):
        origin["S3OriginConfig"] = {
            "OriginAccessIdentity": {"Fn::Sub": "origin-access-identity/cloudfront/${" + ORIGIN_ACCESS + "}"}}
    else:
        origin["S3OriginConfig"] = {"OriginAccessIdentity": ""}
        origin["OriginAccessControlId"] = {"Fn::GetAtt": [ORIGIN_ACCESS, "Id"]}
    config: dict[str, Any] = {
        "Enabled": True, "Comment": "product images", "HttpVersion": "http2", "Origins": [origin],
        "DefaultCacheBehavior": {"TargetOriginId": "media", "ViewerProtocolPolicy": "redirect-to-https",
                                 "AllowedMethods": ["GET", "HEAD"], "CachedMethods": ["GET", "HEAD"],
                                 "CachePolicyId": {"Ref": CACHE}, "Compress": False},
    }
    if domain:
        config["Aliases"] = [domain]
        key = "IamCertificateId" if china(region) else "AcmCertificateArn"
        config["ViewerCertificate"] = {key: certificate, "SslSupportMethod": "sni-only",
                                       "MinimumProtocolVersion": "TLSv1.2_2021"}
    return {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": config}}


def media_policy_statements() -> list[dict[str, Any]]:
    """The functions' rights on the media bucket (part of ``infra.template.lambda_policy``)."""
    return [
        {"Sid": "MediaObjects", "Effect": "Allow", "Action": list(OBJECT_ACTIONS), "Resource": OBJECTS},
        {"Sid": "MediaMissingIs404", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": {"Fn::GetAtt": [BUCKET, "Arn"]}},
    ]


def media_env_everywhere(functions: dict[str, str], base_url: str = "") -> dict[str, dict[str, Any]]:
    """Every function learns the bucket and the served base URL (deep-merged into chalice's
    functions, like the jobs' queue URL)."""
    served: Any = base_url or {"Fn::Sub": "https://${" + DISTRIBUTION + ".DomainName}"}
    return {logical: {"Properties": {"Environment": {"Variables": {"MEDIA_BUCKET": {"Ref": BUCKET},
                                                                   "MEDIA_BASE_URL": served}}}}
            for logical in functions.values()}
