"""Binds notify's RPC subjects and event subscriptions to their use cases."""
from __future__ import annotations

from functools import partial

from contracts.identity import (
    AccountDeactivatedV1,
    AccountProfileChangedV1,
    LoginLinkIssuedV1,
    SignupRequestedV1,
    SmsCodeIssuedV1,
)
from contracts.imports import ImportCompletedV1
from contracts.notebook import (
    AppointmentBookedV1,
    AppointmentChangedV1,
    BeneficiaryContactChangedV1,
    ContractValidatedV1,
    MemberAddedV1,
    OrientationChangedV1,
    ReferentChangedV1,
    ReorientationDeniedV1,
)
from contracts.notify import (
    GetMyNotificationPreferencesV1,
    ListDeliveriesV1,
    PreviewTemplatesV1,
    ReadDevMailboxV1,
    ResendMessageV1,
    SetMyNotificationPreferencesV1,
)
from contracts.webhooks import (
    CreateWebhookSubscriptionV1,
    ListWebhookDeliveriesV1,
    ListWebhookSubscriptionsV1,
    PauseWebhookSubscriptionV1,
    ReplayWebhookDeliveryV1,
    ResumeWebhookSubscriptionV1,
    RotateWebhookSecretV1,
)
from notify.handlers import (
    account_messages,
    bilan_messages,
    bulk_orientation_messages,
    contract_messages,
    exchange_messages,
    transfer_messages,
    import_summaries,
    login_link_issued,
    notebook_messages,
    preferences,
    schedules,
    sms_code_issued,
    webhook_admins,
    webhook_events,
    webhook_subscriptions,
)
from notify.handlers.deliver import run_sender
from notify.handlers.delivery_log import list_deliveries, resend_message
from notify.handlers.deps import Deps
from notify.handlers.read_dev_mailbox import preview_templates, read_dev_mailbox
from notify.handlers.webhook_delivery import run_webhook_sender
from contracts.retention import RetentionDueV1
from notify.handlers import retention
from contracts.rights import GetNotifySubjectDataV1
from notify.handlers import rights_messages, subject_data
from servicekit.app import Service
from servicekit.consumers import Subscription

SUBSCRIPTIONS = (
    (login_link_issued.CONSUMER, LoginLinkIssuedV1, login_link_issued.on_login_link_issued),
    (sms_code_issued.CONSUMER, SmsCodeIssuedV1, sms_code_issued.on_sms_code_issued),
    (account_messages.SIGNUP_CONSUMER, SignupRequestedV1, account_messages.on_signup_requested),
    (account_messages.DEACTIVATED_CONSUMER, AccountDeactivatedV1, account_messages.on_account_deactivated),
    (notebook_messages.INVITATION_CONSUMER, MemberAddedV1, notebook_messages.on_member_added),
    (notebook_messages.REFERENT_CONSUMER, ReferentChangedV1, notebook_messages.on_referent_changed),
    (notebook_messages.APPOINTMENT_CONSUMER, AppointmentBookedV1, notebook_messages.on_appointment_booked),
    (notebook_messages.ORIENTATION_CONSUMER, OrientationChangedV1, notebook_messages.on_orientation_changed),
    (notebook_messages.DENIAL_CONSUMER, ReorientationDeniedV1, notebook_messages.on_reorientation_denied),
    (schedules.COPY_CONSUMER, AppointmentBookedV1, schedules.on_appointment),
    (f"{schedules.COPY_CONSUMER}-changes", AppointmentChangedV1, schedules.on_appointment),
    (f"{schedules.COPY_CONSUMER}-contacts", BeneficiaryContactChangedV1, schedules.on_contact_changed),
    (preferences.CONSUMER, AccountProfileChangedV1, preferences.on_account_profile_changed),
    (import_summaries.CONSUMER, ImportCompletedV1, import_summaries.on_import_completed),
    *contract_messages.SUBSCRIPTIONS,
    *bulk_orientation_messages.SUBSCRIPTIONS,
    *bilan_messages.SUBSCRIPTIONS,
    *exchange_messages.SUBSCRIPTIONS,
    *transfer_messages.SUBSCRIPTIONS,
    *rights_messages.SUBSCRIPTIONS,
    (webhook_events.ORIENTATION_CONSUMER, OrientationChangedV1, webhook_events.on_orientation_changed),
    (webhook_events.REFERENT_CONSUMER, ReferentChangedV1, webhook_events.on_referent_changed),
    (webhook_events.APPOINTMENT_CONSUMER, AppointmentBookedV1, webhook_events.on_appointment_booked),
    (webhook_events.CONTRACT_CONSUMER, ContractValidatedV1, webhook_events.on_contract_validated),
    (webhook_admins.CONSUMER, AccountDeactivatedV1, webhook_admins.on_account_deactivated),
    (f"{webhook_admins.CONSUMER}-emails", AccountProfileChangedV1, webhook_admins.on_account_profile_changed),
)
ROUTES = {
    ReadDevMailboxV1: read_dev_mailbox,
    PreviewTemplatesV1: preview_templates,
    ListDeliveriesV1: list_deliveries,
    ResendMessageV1: resend_message,
    GetMyNotificationPreferencesV1: preferences.get_my_preferences,
    SetMyNotificationPreferencesV1: preferences.set_my_preferences,
    CreateWebhookSubscriptionV1: webhook_subscriptions.create_subscription,
    ListWebhookSubscriptionsV1: webhook_subscriptions.list_subscriptions,
    RotateWebhookSecretV1: webhook_subscriptions.rotate_secret,
    PauseWebhookSubscriptionV1: webhook_subscriptions.pause_subscription,
    ResumeWebhookSubscriptionV1: webhook_subscriptions.resume_subscription,
    ListWebhookDeliveriesV1: webhook_subscriptions.list_deliveries,
    ReplayWebhookDeliveryV1: webhook_subscriptions.replay_delivery,
    GetNotifySubjectDataV1: subject_data.get_subject_data,
}


def register(service: Service, deps: Deps) -> None:
    for request_type, handler in ROUTES.items():
        service.handle(request_type, partial(handler, deps=deps))
    for durable, event_type, handler in SUBSCRIPTIONS:
        service.subscribe(Subscription(durable=durable, event_type=event_type, handler=partial(handler, deps=deps)))
    service.add_task(partial(run_sender, deps), name="notify-sender")
    # Retention (issue 21): what notify holds about a beneficiary whose notebook expired, its stream included.
    service.subscribe(Subscription(durable=retention.CONSUMER, event_type=RetentionDueV1, ack_wait_s=600,
                                   handler=partial(retention.on_retention_due, deps=deps,
                                                   streams=lambda: service.bus.stream_context)))
    service.add_task(partial(schedules.run_schedules, deps), name="notify-schedules")
    service.add_task(partial(run_webhook_sender, deps), name="notify-webhooks")
