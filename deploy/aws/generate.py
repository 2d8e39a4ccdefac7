#!/usr/bin/env python3
"""Renders lapse's AWS files from one parameters file.

    python3 deploy/aws/generate.py PARAMS.toml OUTDIR

PARAMS.toml holds every account id and name (see params.example.toml); OUTDIR
receives, for each account, the IAM roles' permission and trust policies,
the out-of-band change detector (CloudFormation) for each account with
managed roles, the audit bucket's policy, the `aws:` and `audit:` sections
of lapse.yaml that match them, and the settings the policies are linted
with (parliament.yaml):

    OUTDIR/
      cluster/lapse-irsa-trust.json      trust policy of the IRSA role
      cluster/lapse-irsa-read.json       the IRSA role may assume the read roles
      cluster/lapse-irsa-write.json      ... and the write roles, and add audit objects (enforce mode only)
      NAME/lapse-read-trust.json         per account: trust policy of the read role
      NAME/lapse-read.json               per account: what lapse reads there
      NAME/lapse-write-trust.json        per account with managed roles: trust policy of the write role
      NAME/lapse-write.json              per account with managed roles: what lapse changes there
      NAME/lapse-detector.yaml           per account with managed roles: EventBridge rule, SNS topic
      identity-center/lapse-read-trust.json   with [identity_center]: trust policy of its read role
      identity-center/lapse-read.json         ... what lapse reads in Identity Center and its identity store
      identity-center/lapse-write-trust.json  ... trust policy of its write role
      identity-center/lapse-write.json        ... the assignments and group memberships lapse may remove
      audit/bucket-policy.json           the audit bucket's policy
      lapse-aws.yaml                     aws.users_account, aws.accounts (aws.identity_center) and audit.s3 for lapse.yaml
      parliament.yaml                    how scripts/lint-deploy.sh audits the policies

Deterministic: the same parameters give the same bytes, so a rendered copy
can be committed and compared. Python 3.11 or newer, standard library only.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
import tomllib

ACCOUNT_ID = re.compile(r"^\d{12}$")
NAME = re.compile(r"^[A-Za-z0-9_-]+$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
PARTITION = "aws"
# Identity Center's identifiers, as its API references give them.
SSO_INSTANCE_ARN = re.compile(r"^arn:aws:sso:::instance/((?:sso)?ins-[a-zA-Z0-9-.]{16})$")
SSO_PERMISSION_SET_ARN = re.compile(r"^arn:aws:sso:::permissionSet/((?:sso)?ins-[a-zA-Z0-9-.]{16})/ps-[a-zA-Z0-9-./]{16}$")
IDENTITY_STORE_ID = re.compile(r"^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
GROUP_ID = re.compile(r"^([0-9a-f]{10}-)?[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$")
PERMISSION_SET_NAME = re.compile(r"^[\w+=,.@-]{1,32}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
# Where the Identity Center roles' files go (an account of that name is refused).
IDENTITY_CENTER_DIR = "identity-center"


class ParamError(Exception):
    pass


def need(table: dict, key: str, where: str, kind=str):
    if key not in table:
        raise ParamError(f"{where}.{key} is missing")
    value = table[key]
    if not isinstance(value, kind):
        raise ParamError(f"{where}.{key} must be a {kind.__name__}")
    return value


def account_id(table: dict, key: str, where: str) -> str:
    value = need(table, key, where)
    if not ACCOUNT_ID.match(value):
        raise ParamError(f"{where}.{key} must be a 12-digit account id (as a string), not {value!r}")
    return value


def role_name(value: str, where: str) -> str:
    if not ROLE_NAME.match(value):
        raise ParamError(f"{where}: {value!r} is not an IAM role name")
    return value


def role_arn(account: str, name: str) -> str:
    return f"arn:{PARTITION}:iam::{account}:role/{name}"


def load(path: pathlib.Path) -> dict:
    with path.open("rb") as f:
        p = tomllib.load(f)
    cluster = need(p, "cluster", "", dict)
    roles = need(p, "roles", "", dict)
    users = need(p, "users_account", "", dict)
    accounts = need(p, "accounts", "", dict)
    audit = need(p, "audit", "", dict)
    detector = p.get("detector", {})
    out = {
        "cluster": {
            "id": account_id(cluster, "account_id", "cluster"),
            "oidc": need(cluster, "oidc_provider", "cluster").removeprefix("https://").rstrip("/"),
            "namespace": need(cluster, "namespace", "cluster"),
            "service_account": need(cluster, "service_account", "cluster"),
            "irsa_role": role_name(need(cluster, "irsa_role", "cluster"), "cluster.irsa_role"),
        },
        "read": role_name(need(roles, "read", "roles"), "roles.read"),
        "write": role_name(need(roles, "write", "roles"), "roles.write"),
        "read_also_trusts": list(roles.get("read_also_trusts", [])),
        "revoke_active_sessions": bool(roles.get("revoke_active_sessions", False)),
        "users": {
            "name": need(users, "name", "users_account"),
            "id": account_id(users, "id", "users_account"),
            "user_path": users.get("user_path", "/"),
        },
        "accounts": {},
        "bucket": need(audit, "bucket", "audit"),
        "prefix": need(audit, "prefix", "audit").strip("/"),
        "alert_email": detector.get("alert_email", ""),
    }
    if not out["cluster"]["oidc"].startswith("oidc.eks.") and "/id/" not in out["cluster"]["oidc"]:
        raise ParamError("cluster.oidc_provider: expected the issuer host and path, e.g. oidc.eks.REGION.amazonaws.com/id/ID")
    path_ = out["users"]["user_path"]
    if not (path_.startswith("/") and path_.endswith("/")):
        raise ParamError("users_account.user_path must start and end with /")
    for pattern in out["read_also_trusts"]:
        if not re.match(r"^arn:aws:iam::\d{12}:", pattern):
            raise ParamError(f"roles.read_also_trusts: {pattern!r} is not an IAM ARN (pattern)")
    if not out["prefix"]:
        raise ParamError("audit.prefix must not be empty: the IRSA role may add objects under it only")
    if not NAME.match(out["users"]["name"]):
        raise ParamError("users_account.name: letters, digits, - and _ only")
    if not accounts:
        raise ParamError("accounts: no account with managed roles")
    for name, table in accounts.items():
        if not NAME.match(name):
            raise ParamError(f"accounts.{name}: letters, digits, - and _ only")
        roles_ = need(table, "managed_roles", f"accounts.{name}", list)
        if not roles_:
            raise ParamError(f"accounts.{name}.managed_roles is empty")
        out["accounts"][name] = {
            "id": account_id(table, "id", f"accounts.{name}"),
            "managed_roles": sorted({role_name(r, f"accounts.{name}.managed_roles") for r in roles_},
                                    key=str.lower),
        }
    ids = {}
    for name, acct in out["accounts"].items():
        if acct["id"] in ids:
            raise ParamError(f"accounts.{name} and accounts.{ids[acct['id']]} have the same id")
        ids[acct["id"]] = name
    out["identity_center"] = None
    if "identity_center" in p:
        out["identity_center"] = load_identity_center(need(p, "identity_center", "", dict), out)
    return out


def load_identity_center(ic: dict, out: dict) -> dict:
    """[identity_center]: the account that administers Identity Center, the
    instance and identity store, and what lapse manages there (permission
    sets by ARN, in the accounts of [accounts.*]; groups by ID)."""
    w = "identity_center"
    instance_arn = need(ic, "instance_arn", w)
    m = SSO_INSTANCE_ARN.match(instance_arn)
    if not m:
        raise ParamError(f"{w}.instance_arn: {instance_arn!r} is not arn:aws:sso:::instance/ssoins-...")
    store = need(ic, "identity_store_id", w)
    if not IDENTITY_STORE_ID.match(store):
        raise ParamError(f"{w}.identity_store_id: {store!r} is not an identity store ID (d-0123456789)")
    region = need(ic, "region", w)
    if not REGION.match(region):
        raise ParamError(f"{w}.region: {region!r} is not an AWS region")
    res = {
        "id": account_id(ic, "account_id", w),
        "instance_arn": instance_arn,
        "instance_id": m.group(1),
        "identity_store_id": store,
        "region": region,
        "read": role_name(ic.get("read_role", out["read"]), f"{w}.read_role"),
        "write": role_name(ic.get("write_role", out["write"]), f"{w}.write_role"),
        "permission_sets": {},
        "groups": {},
    }
    if IDENTITY_CENTER_DIR in out["accounts"] or out["users"]["name"] == IDENTITY_CENTER_DIR:
        raise ParamError(f"accounts.{IDENTITY_CENTER_DIR}: that name is the Identity Center roles' directory")
    # The Identity Center roles are distinct roles: in an account that has
    # lapse's other roles too, they need other names.
    others = {out["users"]["id"]} | {a["id"] for a in out["accounts"].values()}
    if res["id"] in others and (res["read"] in (out["read"], out["write"])
                                or res["write"] in (out["read"], out["write"])):
        raise ParamError(f"{w}.account_id is an account lapse already has roles in: "
                         f"set {w}.read_role and {w}.write_role to other names")
    if res["read"] == res["write"]:
        raise ParamError(f"{w}.read_role and {w}.write_role are the same role")
    sets = need(ic, "permission_sets", w, dict)
    groups = ic.get("groups", {})
    if not isinstance(groups, dict):
        raise ParamError(f"{w}.groups must be a table")
    if not sets and not groups:
        raise ParamError(f"{w}: no permission_sets and no groups: lapse would manage nothing there")
    for key, arn in sorted(sets.items()):
        where = f"{w}.permission_sets.{key!r}"
        account, _, name = key.partition("/")
        if account not in out["accounts"] or not PERMISSION_SET_NAME.match(name):
            raise ParamError(f"{where}: expected ACCOUNT/PERMISSION_SET_NAME, ACCOUNT one of [accounts.*]")
        if not isinstance(arn, str):
            raise ParamError(f"{where} must be the permission set's ARN (a string)")
        pm = SSO_PERMISSION_SET_ARN.match(arn)
        if not pm:
            raise ParamError(f"{where}: {arn!r} is not arn:aws:sso:::permissionSet/ssoins-.../ps-...")
        if pm.group(1) != res["instance_id"]:
            raise ParamError(f"{where}: {arn!r} is not a permission set of {instance_arn}")
        res["permission_sets"][key] = {"account": out["accounts"][account]["id"], "arn": arn}
    for name, group_id in sorted(groups.items()):
        if not isinstance(group_id, str) or not GROUP_ID.match(group_id):
            raise ParamError(f"{w}.groups.{name}: {group_id!r} is not an identity store group ID")
        res["groups"][name] = group_id
    return res


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def one_or_list(values: list[str]):
    return values[0] if len(values) == 1 else values


def trust_irsa_role(p: dict, extra: list[str]) -> dict:
    """Trust of a per-account role: the IRSA role (and the extra principal
    patterns), named by aws:PrincipalArn behind their accounts' roots, so
    that the caller's own policy must allow the AssumeRole as well."""
    irsa = role_arn(p["cluster"]["id"], p["cluster"]["irsa_role"])
    accounts = sorted({p["cluster"]["id"], *(arn.split(":")[4] for arn in extra)})
    principals = [f"arn:{PARTITION}:iam::{a}:root" for a in accounts]
    condition = ({"ArnLike": {"aws:PrincipalArn": [irsa, *extra]}} if extra
                 else {"ArnEquals": {"aws:PrincipalArn": irsa}})
    return policy({
        "Sid": "AssumedByTheLapseIrsaRoleOnly" if not extra else "AssumedByTheLapseIrsaRoleAndPlanners",
        "Effect": "Allow",
        "Principal": {"AWS": one_or_list(principals)},
        "Action": "sts:AssumeRole",
        "Condition": condition,
    })


def accounts_by_id(p: dict) -> dict[str, dict]:
    """Every account lapse reads, by id: the users account and those with
    managed roles (one entry when they are the same account)."""
    merged: dict[str, dict] = {}
    users = p["users"]
    merged[users["id"]] = {"name": users["name"], "users": True, "managed_roles": []}
    for name, acct in p["accounts"].items():
        entry = merged.setdefault(acct["id"], {"name": name, "users": False, "managed_roles": []})
        entry["name"] = name
        entry["managed_roles"] = acct["managed_roles"]
    return merged


def read_policy(account: str, entry: dict, p: dict) -> dict:
    statements = []
    unscoped = []
    if entry["managed_roles"]:
        unscoped.append("iam:ListRoles")
    if entry["users"]:
        unscoped += ["iam:ListUsers", "iam:GenerateCredentialReport", "iam:GetCredentialReport"]
    statements.append({
        "Sid": "ListingAndTheCredentialReportHaveNoResourceScope",
        "Effect": "Allow",
        "Action": one_or_list(unscoped),
        "Resource": "*",
    })
    if entry["managed_roles"]:
        statements.append({
            "Sid": "ReadTheManagedRoles",
            "Effect": "Allow",
            "Action": "iam:GetRole",
            "Resource": one_or_list([role_arn(account, r) for r in entry["managed_roles"]]),
        })
    if entry["users"]:
        statements.append({
            "Sid": "ReadWhenPeoplesAccessKeysWereLastUsed",
            "Effect": "Allow",
            "Action": ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"],
            "Resource": f"arn:{PARTITION}:iam::{account}:user{p['users']['user_path']}*",
        })
    return policy(*statements)


def write_policy(account: str, entry: dict, p: dict) -> dict:
    managed = one_or_list([role_arn(account, r) for r in entry["managed_roles"]])
    actions = ["iam:GetRole", "iam:UpdateAssumeRolePolicy"]
    if p["revoke_active_sessions"]:
        actions.append("iam:PutRolePolicy")
    return policy(
        {
            "Sid": "EditAndReadBackTheManagedRolesTrustPolicies",
            "Effect": "Allow",
            "Action": actions,
            "Resource": managed,
        },
        {
            "Sid": "NeverAssumeAnyRoleFromHere",
            "Effect": "Deny",
            "Action": "sts:AssumeRole",
            "Resource": "*",
        },
    )


def sso_instance_resources(ic: dict) -> dict[str, str]:
    store = ic["identity_store_id"]
    return {
        "instance": ic["instance_arn"],
        "all_permission_sets": f"arn:{PARTITION}:sso:::permissionSet/{ic['instance_id']}/*",
        # An identity store's ID alone identifies it: with * for the ARN's
        # account the policy does not depend on which account that names.
        "store": f"arn:{PARTITION}:identitystore::*:identitystore/{store}",
        "all_users": f"arn:{PARTITION}:identitystore:::user/*",
        "all_groups": f"arn:{PARTITION}:identitystore:::group/*",
        "all_memberships": f"arn:{PARTITION}:identitystore:::membership/*",
    }


def managed_assignments(ic: dict) -> list[str]:
    """The managed permission sets and the accounts they are managed in:
    what ListAccountAssignments and DeleteAccountAssignment may name. IAM
    checks each resource of a request on its own, so any of these permission
    sets in any of these accounts is allowed, nothing else."""
    sets = sorted({s["arn"] for s in ic["permission_sets"].values()})
    accounts = sorted({s["account"] for s in ic["permission_sets"].values()})
    return sets + [f"arn:{PARTITION}:sso:::account/{a}" for a in accounts]


def managed_groups(ic: dict) -> list[str]:
    return [f"arn:{PARTITION}:identitystore:::group/{g}" for g in sorted(set(ic["groups"].values()))]


def sso_read_policy(ic: dict) -> dict:
    r = sso_instance_resources(ic)
    statements = [
        {
            "Sid": "FindTheManagedPermissionSetsByNameAmongAllOfTheInstance",
            "Effect": "Allow",
            "Action": ["sso:ListPermissionSets", "sso:DescribePermissionSet"],
            "Resource": [r["instance"], r["all_permission_sets"]],
        },
    ]
    if ic["permission_sets"]:
        statements.append({
            "Sid": "ReadTheAssignmentsOfTheManagedPermissionSetsInTheirAccounts",
            "Effect": "Allow",
            "Action": "sso:ListAccountAssignments",
            "Resource": [r["instance"], *managed_assignments(ic)],
        })
    statements.append({
        "Sid": "ListingUsersGroupsAndMembershipsHasNoNarrowerResourceScope",
        "Effect": "Allow",
        "Action": ["identitystore:ListUsers", "identitystore:ListGroups", "identitystore:ListGroupMemberships"],
        "Resource": [r["store"], r["all_users"], r["all_groups"], r["all_memberships"]],
    })
    if ic["groups"]:
        statements.append({
            "Sid": "ReadBackMembershipsOfTheManagedGroups",
            "Effect": "Allow",
            "Action": "identitystore:GetGroupMembershipId",
            "Resource": [r["store"], *managed_groups(ic), r["all_users"], r["all_memberships"]],
        })
    return policy(*statements)


def sso_write_policy(ic: dict) -> dict:
    r = sso_instance_resources(ic)
    statements = []
    if ic["permission_sets"]:
        statements += [
            {
                "Sid": "DeleteAssignmentsOfTheManagedPermissionSetsInTheirAccounts",
                "Effect": "Allow",
                "Action": "sso:DeleteAccountAssignment",
                "Resource": [r["instance"], *managed_assignments(ic)],
            },
            {
                "Sid": "FollowTheDeletionsByRequestIdTheInstanceIsTheNarrowestScope",
                "Effect": "Allow",
                "Action": "sso:DescribeAccountAssignmentDeletionStatus",
                "Resource": r["instance"],
            },
        ]
    if ic["groups"]:
        statements.append({
            "Sid": "RemoveMembersFromTheManagedGroupsOnly",
            "Effect": "Allow",
            "Action": "identitystore:DeleteGroupMembership",
            "Resource": [r["store"], *managed_groups(ic), r["all_users"], r["all_memberships"]],
        })
    statements.append({
        "Sid": "NeverAssumeAnyRoleFromHere",
        "Effect": "Deny",
        "Action": "sts:AssumeRole",
        "Resource": "*",
    })
    return policy(*statements)


def irsa_trust(p: dict) -> dict:
    c = p["cluster"]
    return policy({
        "Sid": "AssumedByTheLapseServiceAccountOnly",
        "Effect": "Allow",
        "Principal": {"Federated": f"arn:{PARTITION}:iam::{c['id']}:oidc-provider/{c['oidc']}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {
                f"{c['oidc']}:sub": f"system:serviceaccount:{c['namespace']}:{c['service_account']}",
                f"{c['oidc']}:aud": "sts.amazonaws.com",
            }
        },
    })


def audit_objects(p: dict) -> str:
    return f"arn:{PARTITION}:s3:::{p['bucket']}/{p['prefix']}/*"


def irsa_read(p: dict, merged: dict) -> dict:
    roles = [role_arn(a, p["read"]) for a in sorted(merged)]
    if p["identity_center"]:
        roles.append(role_arn(p["identity_center"]["id"], p["identity_center"]["read"]))
    return policy({
        "Sid": "AssumeTheReadRoleInEachAccount",
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Resource": one_or_list(roles),
    })


def irsa_write(p: dict, merged: dict) -> dict:
    return policy(
        {
            "Sid": "AssumeTheWriteRoleInEachAccountWithManagedRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": one_or_list([role_arn(a, p["write"]) for a, e in sorted(merged.items())
                                     if e["managed_roles"]]
                                    + ([role_arn(p["identity_center"]["id"], p["identity_center"]["write"])]
                                       if p["identity_center"] else [])),
        },
        {
            "Sid": "AddAuditRecordsOnly",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": audit_objects(p),
        },
    )


def bucket_policy(p: dict) -> dict:
    bucket = f"arn:{PARTITION}:s3:::{p['bucket']}"
    irsa = role_arn(p["cluster"]["id"], p["cluster"]["irsa_role"])
    return policy(
        {
            "Sid": "LapseAddsAuditRecords",
            "Effect": "Allow",
            "Principal": {"AWS": irsa},
            "Action": "s3:PutObject",
            "Resource": audit_objects(p),
        },
        {
            "Sid": "NobodyElseAddsAuditRecords",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": audit_objects(p),
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": irsa}},
        },
        {
            "Sid": "NobodyDeletesOrUnlocksAuditRecords",
            "Effect": "Deny",
            "Principal": "*",
            "Action": [
                "s3:BypassGovernanceRetention",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:PutObjectLegalHold",
                "s3:PutObjectRetention",
            ],
            "Resource": audit_objects(p),
        },
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, f"{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


def detector(account: str, name: str, entry: dict, p: dict) -> str:
    """CloudFormation for one account: an EventBridge rule on CloudTrail's
    UpdateAssumeRolePolicy and PutRolePolicy for the managed roles by any
    principal but lapse's write role, to an SNS topic."""
    write_sessions = f"arn:{PARTITION}:sts::{account}:assumed-role/{p['write']}/"
    pattern = {
        "source": ["aws.iam"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["iam.amazonaws.com"],
            "eventName": ["UpdateAssumeRolePolicy", "PutRolePolicy"],
            # IAM matches role names regardless of case, so the rule does too.
            "requestParameters": {
                "roleName": [{"equals-ignore-case": r} for r in entry["managed_roles"]],
            },
            # Anyone but a session of lapse's write role, including callers
            # CloudTrail records without an ARN.
            "$or": [
                {"userIdentity": {"arn": [{"anything-but": {"prefix": write_sessions}}]}},
                {"userIdentity": {"arn": [{"exists": False}]}},
            ],
        },
    }
    roles = ", ".join(entry["managed_roles"])
    message = (
        '"<who> called <event> on IAM role <role> in account <account> (' + name + ') at <time>; '
        'error code, empty if it succeeded: <error>. Only lapse\'s write role changes the managed roles: '
        'read the event in CloudTrail and check that the role trusts no one the roster does not give access to."'
    )
    q = json.dumps  # a JSON string is a YAML scalar
    return f"""\
# Rendered by deploy/aws/generate.py: do not edit; change the parameters and render again.
#
# Out-of-band changes to lapse's managed roles in account {account} ({name}):
# an EventBridge rule on CloudTrail's UpdateAssumeRolePolicy and PutRolePolicy
# for {roles}, by any principal other than lapse's write
# role ({p['write']}), published to an SNS topic (encrypted with its own KMS key).
#
# IAM is global and sends its CloudTrail events to EventBridge in us-east-1
# only, and only while a trail records the account's management events (an
# organization trail counts): deploy this stack in us-east-1.
#
#   aws cloudformation deploy --region us-east-1 --stack-name lapse-detector \\
#     --template-file {name}/lapse-detector.yaml
AWSTemplateFormatVersion: "2010-09-09"
Description: {q(f"lapse: alert on changes to the managed roles' policies in {name} by anyone but lapse's write role")}

Parameters:
  AlertEmail:
    Type: String
    Default: {q(p['alert_email'])}
    Description: Subscribed to the alert topic (confirm the e-mail SNS sends); empty for none.

Conditions:
  HasAlertEmail: !Not [!Equals [!Ref AlertEmail, ""]]

Resources:
  AlertKey:
    Type: AWS::KMS::Key
    Properties:
      Description: lapse out-of-band change alerts (SNS topic encryption)
      EnableKeyRotation: true
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Sid: TheAccountAdministersTheKey
            Effect: Allow
            Principal:
              AWS: !Sub "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root"
            Action: "kms:*"
            Resource: "*"
          - Sid: EventBridgeEncryptsWhatItPublishes
            Effect: Allow
            Principal:
              Service: events.amazonaws.com
            Action:
              - kms:Decrypt
              - kms:GenerateDataKey
            Resource: "*"
            Condition:
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId

  AlertTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: lapse-out-of-band-iam-changes
      DisplayName: lapse out-of-band IAM changes
      KmsMasterKeyId: !Ref AlertKey

  AlertTopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics:
        - !Ref AlertTopic
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: OnlyThisRulePublishes
            Effect: Allow
            Principal:
              Service: events.amazonaws.com
            Action: sns:Publish
            Resource: !Ref AlertTopic
            Condition:
              ArnEquals:
                aws:SourceArn: !GetAtt OutOfBandChangeRule.Arn

  AlertSubscription:
    Type: AWS::SNS::Subscription
    Condition: HasAlertEmail
    Properties:
      TopicArn: !Ref AlertTopic
      Protocol: email
      Endpoint: !Ref AlertEmail

  OutOfBandChangeRule:
    Type: AWS::Events::Rule
    Properties:
      Name: lapse-out-of-band-iam-changes
      Description: {q(f"UpdateAssumeRolePolicy or PutRolePolicy on a role lapse manages, by anyone but {p['write']}")}
      State: ENABLED
      EventPattern: {json.dumps(pattern, sort_keys=False)}
      Targets:
        - Id: alert-topic
          Arn: !Ref AlertTopic
          InputTransformer:
            InputPathsMap:
              who: $.detail.userIdentity.arn
              event: $.detail.eventName
              role: $.detail.requestParameters.roleName
              account: $.account
              time: $.time
              error: $.detail.errorCode
            InputTemplate: {q(message)}

Outputs:
  AlertTopicArn:
    Description: Subscribe further alert channels (chat, paging) here.
    Value: !Ref AlertTopic
"""


def lapse_fragment(p: dict) -> str:
    q = json.dumps
    users = p["users"]
    lines = [
        "# Rendered by deploy/aws/generate.py: the sections of lapse.yaml that name",
        "# the roles above. In mode: report, leave out every write_role_arn (and",
        "# audit: is not needed); in mode: enforce, keep them.",
        "aws:",
        f"  users_account: {{id: {q(users['id'])}, assume_role_arn: {q(role_arn(users['id'], p['read']))}}}",
        "  accounts:",
    ]
    for name, acct in p["accounts"].items():
        lines.append(
            f"    {name}: {{id: {q(acct['id'])}, assume_role_arn: {q(role_arn(acct['id'], p['read']))}, "
            f"write_role_arn: {q(role_arn(acct['id'], p['write']))}}}"
        )
    ic = p["identity_center"]
    if ic:
        lines += [
            "  identity_center:",
            f"    instance_arn: {q(ic['instance_arn'])}",
            f"    identity_store_id: {q(ic['identity_store_id'])}",
            f"    region: {q(ic['region'])}",
            f"    assume_role_arn: {q(role_arn(ic['id'], ic['read']))}",
            f"    write_role_arn: {q(role_arn(ic['id'], ic['write']))}",
        ]
    lines += [
        "audit:",
        f"  s3: {{bucket: {q(p['bucket'])}, prefix: {q(p['prefix'])}}}",
    ]
    return "\n".join(lines) + "\n"


SKIPS = [
    ("lapse-write.json", "PERMISSIONS_MANAGEMENT_ACTIONS", None,
     "Editing the managed roles' trust policies (iam:UpdateAssumeRolePolicy) is how lapse revokes AWS "
     "access, and iam:PutRolePolicy (with aws.revoke_active_sessions) is how it cuts off the sessions "
     "issued before. The Resource is the managed roles only, and the same policy denies the write role "
     "every sts:AssumeRole, so it cannot use a trust policy it edits."),
    ("lapse-irsa-read.json", "CREDENTIALS_EXPOSURE", None,
     "The IRSA role reaches each account by assuming its read role, listed by ARN."),
    ("lapse-irsa-write.json", "CREDENTIALS_EXPOSURE", None,
     "In enforce mode the IRSA role reaches each account's write role, listed by ARN."),
    ("lapse-read-trust.json", "CREDENTIALS_EXPOSURE", None,
     "A trust policy says who may obtain the role's credentials: the lapse IRSA role (and the "
     "planners' roles named in the parameters), by aws:PrincipalArn."),
    ("lapse-write-trust.json", "CREDENTIALS_EXPOSURE", None,
     "A trust policy says who may obtain the role's credentials: the lapse IRSA role only, by "
     "aws:PrincipalArn."),
    ("lapse-irsa-trust.json", "CREDENTIALS_EXPOSURE", None,
     "A trust policy says who may obtain the role's credentials: the lapse service account of one "
     "cluster only (the OIDC sub and aud)."),
    ("lapse-irsa-trust.json", "UNKNOWN_FEDERATION_SOURCE",
     r"^arn:aws:iam::\d{12}:oidc-provider/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[A-Z0-9]+$",
     "parliament 1.6 knows SAML providers and four public identity providers, not IAM OIDC "
     "providers. An EKS cluster's OIDC provider is how IRSA works."),
    ("lapse-irsa-trust.json", "UNKNOWN_CONDITION_FOR_ACTION",
     r"^Unknown condition oidc\.eks\.[a-z0-9-]+\.amazonaws\.com/id/[A-Z0-9]+:(sub|aud) for action "
     r"sts:AssumeRoleWithWebIdentity$",
     "The OIDC provider's own keys (PROVIDER:sub, PROVIDER:aud) are the documented IRSA conditions; "
     "parliament's action table lists only the global and STS keys."),
]


def parliament_yaml(trust: dict[str, str]) -> str:
    q = json.dumps
    lines = [
        "# Rendered by deploy/aws/generate.py. How scripts/lint-deploy.sh audits the",
        "# policies beside this file with parliament: its default and community",
        "# auditors, every severity. Any finding fails the lint unless a skip below",
        "# matches it (by file name, in every account); a skip that matches nothing",
        "# fails too, so none outlives its reason. (parliament's own",
        "# `ignore_locations` matches nothing in 1.6.4; the script applies these.)",
        "#",
        "# Trust policies have no Resource element (the resource is the role they",
        "# are attached to); the script audits each with its role's ARN as the",
        "# Resource of every statement.",
        "trust_policies:",
    ]
    lines += [f"  {path}: {arn}" for path, arn in sorted(trust.items())]
    lines.append("skips:")
    for file, issue, detail, reason in SKIPS:
        lines.append(f"  - file: {file}")
        lines.append(f"    issue: {issue}")
        if detail:
            lines.append(f"    detail: {q(detail)}")
        lines.append(f"    reason: {q(reason)}")
    return "\n".join(lines) + "\n"


def render(p: dict) -> dict[str, str]:
    files: dict[str, str] = {}

    def put_json(path: str, doc: dict) -> None:
        files[path] = json.dumps(doc, indent=2) + "\n"

    merged = accounts_by_id(p)
    cluster = p["cluster"]
    trust: dict[str, str] = {"cluster/lapse-irsa-trust.json": role_arn(cluster["id"], cluster["irsa_role"])}
    put_json("cluster/lapse-irsa-trust.json", irsa_trust(p))
    put_json("cluster/lapse-irsa-read.json", irsa_read(p, merged))
    put_json("cluster/lapse-irsa-write.json", irsa_write(p, merged))
    for account, entry in sorted(merged.items(), key=lambda kv: kv[1]["name"]):
        name = entry["name"]
        put_json(f"{name}/lapse-read-trust.json", trust_irsa_role(p, p["read_also_trusts"]))
        trust[f"{name}/lapse-read-trust.json"] = role_arn(account, p["read"])
        put_json(f"{name}/lapse-read.json", read_policy(account, entry, p))
        if entry["managed_roles"]:
            put_json(f"{name}/lapse-write-trust.json", trust_irsa_role(p, []))
            trust[f"{name}/lapse-write-trust.json"] = role_arn(account, p["write"])
            put_json(f"{name}/lapse-write.json", write_policy(account, entry, p))
            files[f"{name}/lapse-detector.yaml"] = detector(account, name, entry, p)
    ic = p["identity_center"]
    if ic:
        d = IDENTITY_CENTER_DIR
        put_json(f"{d}/lapse-read-trust.json", trust_irsa_role(p, p["read_also_trusts"]))
        trust[f"{d}/lapse-read-trust.json"] = role_arn(ic["id"], ic["read"])
        put_json(f"{d}/lapse-read.json", sso_read_policy(ic))
        put_json(f"{d}/lapse-write-trust.json", trust_irsa_role(p, []))
        trust[f"{d}/lapse-write-trust.json"] = role_arn(ic["id"], ic["write"])
        put_json(f"{d}/lapse-write.json", sso_write_policy(ic))
    put_json("audit/bucket-policy.json", bucket_policy(p))
    files["lapse-aws.yaml"] = lapse_fragment(p)
    files["parliament.yaml"] = parliament_yaml(trust)
    return files


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 1 if len(argv) != 2 else 0
    params, outdir = pathlib.Path(argv[1]), pathlib.Path(argv[2])
    try:
        p = load(params)
    except (ParamError, tomllib.TOMLDecodeError, OSError) as e:
        print(f"generate: {params}: {e}", file=sys.stderr)
        return 1
    files = render(p)
    outdir.mkdir(parents=True, exist_ok=True)
    # Files this script wrote before and would not write now (an account
    # removed from the parameters) go, so the directory is exactly the output.
    for old in sorted(outdir.rglob("*"), reverse=True):
        rel = old.relative_to(outdir).as_posix()
        if old.is_file() and rel not in files and (old.suffix in (".json", ".yaml")):
            old.unlink()
        elif old.is_dir() and not any(old.iterdir()):
            old.rmdir()
    for rel, text in sorted(files.items()):
        path = outdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"generate: {len(files)} files in {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
