"""The product images' infrastructure (infra/media.py): a private bucket served by CloudFront
through its origin access, the functions' rights under products/ and after-sales/ only, and the bucket and base
URL in every function's environment; cfn-lint clean in China and elsewhere."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from infra.media import media_policy_statements, media_resources
from infra.template import lambda_policy


@pytest.fixture(scope="module")
def template(packaged: tuple[subprocess.CompletedProcess[str], Path]) -> dict[str, Any]:
    done, out = packaged
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out / "sam.json").read_text())


def lint_errors(resources: dict[str, Any], region: str) -> list[str]:
    document = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    return [str(match) for match in lint(json.dumps(document), config=ManualArgs(regions=[region]))]


def test_the_bucket_is_private_encrypted_kept_and_takes_browser_posts(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["MediaBucket"]
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True} and len(
        props["PublicAccessBlockConfiguration"]) == 4
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    [cors] = props["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]


def test_in_china_cloudfront_reads_the_bucket_through_an_origin_access_identity(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["MediaOriginAccess"]["Type"] == "AWS::CloudFront::CloudFrontOriginAccessIdentity"
    statements = resources["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [read] = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Principal"] == {"CanonicalUser": {"Fn::GetAtt": ["MediaOriginAccess", "S3CanonicalUserId"]}}
    assert (read["Action"], read["Resource"]) == ("s3:GetObject", [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${MediaBucket}/after-sales/*"},
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${MediaBucket}/products/*"}])
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    config = resources["MediaDistribution"]["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == {
        "Fn::Sub": "origin-access-identity/cloudfront/${MediaOriginAccess}"}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]


def test_elsewhere_it_reads_through_an_origin_access_control_for_this_distribution_only() -> None:
    resources = media_resources("eu-west-1")
    assert resources["MediaOriginAccess"]["Properties"]["OriginAccessControlConfig"] == {
        "Name": {"Fn::Sub": "${AWS::StackName}-media"}, "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always", "SigningProtocol": "sigv4"}
    [origin] = resources["MediaDistribution"]["Properties"]["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["MediaOriginAccess", "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    [read] = [s for s in resources["MediaBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
              if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Condition"] == {"StringEquals": {"AWS:SourceArn": {"Fn::Sub": (
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${MediaDistribution}")}}}


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1", "eu-west-1", "us-east-1"])
def test_the_media_resources_lint_clean_in_each_region(region: str) -> None:
    assert lint_errors(media_resources(region), region) == []


def test_cfn_lint_knows_no_origin_access_control_in_china() -> None:
    """Why China gets an origin access identity: the type does not exist there."""
    assert any("does not exist in 'cn-north-1'" in e for e in lint_errors(media_resources("eu-west-1"), "cn-north-1"))


def test_an_alternate_domain_is_served_with_its_certificate() -> None:
    china = media_resources("cn-north-1", "https://img.example.cn", "ASCAEXAMPLE")
    config = china["MediaDistribution"]["Properties"]["DistributionConfig"]
    assert config["Aliases"] == ["img.example.cn"]
    assert config["ViewerCertificate"] == {"IamCertificateId": "ASCAEXAMPLE", "SslSupportMethod": "sni-only",
                                           "MinimumProtocolVersion": "TLSv1.2_2021"}
    assert lint_errors(china, "cn-north-1") == []
    acm = "arn:aws:acm:us-east-1:123456789012:certificate/abc"
    elsewhere = media_resources("eu-west-1", "https://img.example.com", acm)
    assert elsewhere["MediaDistribution"]["Properties"]["DistributionConfig"]["ViewerCertificate"][
        "AcmCertificateArn"] == acm
    with pytest.raises(ValueError, match="MEDIA_CERTIFICATE"):
        media_resources("cn-north-1", "https://img.example.cn")


def test_the_functions_may_put_and_get_under_products_and_after_sales_and_list_the_bucket_only() -> None:
    statements = {s["Sid"]: s for s in lambda_policy({}, xray=False)["Statement"]}
    assert statements["MediaObjects"]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert statements["MediaObjects"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${MediaBucket}/after-sales/*"},
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${MediaBucket}/products/*"}]
    assert statements["MediaMissingIs404"] == {"Sid": "MediaMissingIs404", "Effect": "Allow",
                                               "Action": "s3:ListBucket",
                                               "Resource": {"Fn::GetAtt": ["MediaBucket", "Arn"]}}
    assert [s["Sid"] for s in media_policy_statements()] == ["MediaObjects", "MediaMissingIs404"]


def test_every_function_knows_the_bucket_and_the_served_base_url(template: dict[str, Any]) -> None:
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert functions
    for function in functions:
        env = function["Properties"]["Environment"]["Variables"]
        assert env["MEDIA_BUCKET"] == {"Ref": "MediaBucket"}
        assert env["MEDIA_BASE_URL"] == {"Fn::Sub": "https://${MediaDistribution.DomainName}"}
        assert "JOBS_QUEUE_URL" in env  # merged with, not over, the queue's variable
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert any("MediaObjects" in json.dumps(role) for role in roles)
