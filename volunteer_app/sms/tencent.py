"""Tencent Cloud SMS (短信 SendSms, API version 2021-01-11) through the official SDK.

Settings (config.py ENV_SETTINGS): SMS_PROVIDER=tencent, TENCENT_SECRET_ID, TENCENT_SECRET_KEY,
TENCENT_SMS_SDK_APP_ID, TENCENT_SMS_SIGN_NAME, TENCENT_SMS_REGION (default ap-guangzhou) and
TENCENT_SMS_TEMPLATES ("code=123456,register_taken=...": the approved template id of each template name).
The SDK signs every request (TC3-HMAC-SHA256); tests intercept its HTTP layer (tests/test_sms_sender.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from . import TEMPLATES, SmsSendError, check_params

ENDPOINT = "sms.tencentcloudapi.com"
REQUIRED = ("TENCENT_SECRET_ID", "TENCENT_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID", "TENCENT_SMS_SIGN_NAME")


def parse_template_ids(text: str) -> dict[str, str]:
    """"code=1001,register_taken=1002" → {"code": "1001", ...}; unknown names are refused."""
    ids = {}
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        name, _, template_id = part.partition("=")
        if name.strip() not in TEMPLATES or not template_id.strip():
            raise ValueError(f"bad TENCENT_SMS_TEMPLATES entry {part!r}")
        ids[name.strip()] = template_id.strip()
    return ids


@dataclass(frozen=True)
class TencentSender:
    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    template_ids: dict
    region: str = "ap-guangzhou"
    timeout: int = 10

    @classmethod
    def from_config(cls, config) -> "TencentSender":
        missing = [key for key in REQUIRED if not config.get(key)]
        if missing:
            raise ValueError(f"SMS_PROVIDER=tencent needs {', '.join(missing)}")
        ids = config.get("TENCENT_SMS_TEMPLATES") or {}
        if isinstance(ids, str):
            ids = parse_template_ids(ids)
        return cls(secret_id=config["TENCENT_SECRET_ID"], secret_key=config["TENCENT_SECRET_KEY"],
                   sdk_app_id=str(config["TENCENT_SMS_SDK_APP_ID"]), sign_name=config["TENCENT_SMS_SIGN_NAME"],
                   template_ids=dict(ids), region=config.get("TENCENT_SMS_REGION") or "ap-guangzhou")

    def send(self, *, session: Session | None, phone: str, template: str, params: list[str]) -> None:
        """One SendSms call; SmsSendError if Tencent refuses it (an error, or a send status other than Ok)."""
        from tencentcloud.common import credential
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import models, sms_client

        values = check_params(template, params)
        template_id = self.template_ids.get(template)
        if not template_id:
            raise SmsSendError(f"no Tencent template id for {template!r}")
        http = HttpProfile(endpoint=ENDPOINT, reqTimeout=self.timeout)
        client = sms_client.SmsClient(credential.Credential(self.secret_id, self.secret_key), self.region,
                                      ClientProfile(httpProfile=http))
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{phone}"]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = values
        try:
            response = client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise SmsSendError(f"Tencent SMS: {exc.get_code()}") from exc
        statuses = response.SendStatusSet or []
        if not statuses or statuses[0].Code != "Ok":
            raise SmsSendError(f"Tencent SMS: {statuses[0].Code if statuses else 'no status'}")
