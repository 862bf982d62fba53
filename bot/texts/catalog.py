"""The shape of a language: every user-facing text the bot can say, as one field each.

A language is one instance of `Texts` (see `ru.py`, `en.py`), so a text missing in one language
is a TypeError at import, not a blank message in a customer's chat. Placeholders are
`str.format` fields; values a user typed are HTML-escaped by the caller before formatting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Texts:
    language: str
    points_forms: tuple[str, str, str]  # one, few, many: 1 балл, 2 балла, 5 баллов
    # Consent to personal-data processing (152-FZ) and to advertising (38-FZ).
    consent_personal_data: str
    consent_policy_link: str
    consent_agree: str
    consent_decline: str
    consent_declined: str
    consent_declined_bonus: str
    consent_changed_mind: str
    consent_advertising: str
    ads_yes: str
    ads_no: str
    # The questionnaire.
    progress: str
    ask_name: str
    ask_phone: str
    ask_birthday: str
    ask_gender: str
    ask_city: str
    ask_city_buttons: str
    ask_interests: str
    back: str
    skip: str
    done: str
    share_phone: str
    female: str
    male: str
    bad_name: str
    bad_phone: str
    phone_not_own: str
    phone_taken: str
    bad_birthday_format: str
    bad_birthday_age: str
    use_buttons: str
    text_expected: str
    contact_expected: str
    resume: str
    # After signup.
    welcome: str
    welcome_bonus: str
    returning: str
    menu_balance: str
    menu_card: str
    menu_profile: str
    menu_help: str
    balance: str
    menu_history: str
    menu_invite: str
    card_face_caption: str
    profile_ads_on: str
    profile_ads_off: str
    profile: str
    profile_empty: str
    help: str
    help_short: str
    not_signed_up: str
    # Loyalty: balance, card, history, invites, purchases.
    balance_tier: str
    balance_next: str
    balance_top: str
    balance_expiring: str
    card_caption: str
    history_title: str
    history_empty: str
    history_older: str
    history_newer: str
    op_accrual: str
    op_redemption: str
    op_bonus: str
    op_expiry: str
    op_reversal: str
    op_refund: str
    op_adjustment: str
    bonus_reasons: tuple[tuple[str, str], ...]
    invite_text: str
    purchase_notice: str
    purchase_redeemed: str
    purchase_friend_bonus: str
    refund_notice: str
    tier_up: str
    referral_paid: str
    staff_only: str
    cashier_invite: str
    invite_accepted: str
    invite_unusable: str
    sale_ask_customer: str
    sale_not_found: str
    sale_card_typo: str
    sale_customer: str
    sale_ask_amount: str
    sale_bad_amount: str
    sale_ask_receipt: str
    sale_bad_receipt: str
    sale_no_receipt: str
    sale_ask_redeem: str
    sale_redeem_max: str
    sale_redeem_none: str
    sale_bad_redeem: str
    sale_confirm: str
    sale_go: str
    sale_cancel: str
    sale_done: str
    sale_duplicate: str
    sale_duplicate_amount: str
    sale_receipt_taken: str
    sale_not_enough: str
    sale_cancelled: str
    receipt_usage: str
    receipt_printed: str
    receipt_issued: str
    receipt_claimed: str
    receipt_expired: str
    receipt_forged: str
    receipt_voided: str
    receipt_after_signup: str
    forget_button: str
    forget_confirm: str
    forget_yes: str
    forget_no: str
    forgotten: str
    forget_kept: str
    # Owners: QR codes and sources.
    owner_only: str
    qr_ask_store: str
    qr_ask_campaign: str
    qr_ask_employee: str
    qr_no_employee: str
    qr_all_employees: str
    qr_no_employees_known: str
    qr_bad_name: str
    qr_making: str
    qr_caption: str
    poster_call_to_action: str
    poster_call_to_join: str
    poster_subtitle: str
    poster_link_hint: str
    sources_empty: str
    sources_title: str
    funnel_columns: tuple[str, ...]
    funnel_unknown: str
    funnel_best: str
    funnel_worst: str
    funnel_receipt_share: str
    campaign_presets: tuple[str, ...]
    # Service answers.
    already_done: str
    sorry: str
    # Leaving any form: /cancel, the word, or the button under a question.
    cancel_word: str
    form_cancel: str
    cancelled: str
    nothing_to_cancel: str
    owner_phone_conflict: str
    # Advertising: the button under every advertising message and its answer.
    owner_pos_auth_failures: str
    owner_pos_lookup_misses: str
    broadcast_button: str  # the link button a broadcast may carry
    unsubscribe_button: str
    unsubscribed: str
    # The scheduler: messages it queues (rendered by bot/telegram/job_texts.py) and /schedule.
    birthday_greeting: str
    birthday_gift: str
    points_expiring: str
    balance_digest: str
    schedule_title: str
    schedule_job: str
    schedule_last: str
    schedule_never: str
    schedule_on: str
    schedule_off: str
    schedule_turn_on: str
    schedule_turn_off: str
    schedule_states: tuple[tuple[str, str], ...]
    job_names: tuple[tuple[str, str], ...]

    # Statistics (/stats, `clientbase stats`), export and import (/export, /import).
    stats_summary: str
    stats_segments: tuple[str, ...]
    stats_sources_title: str
    stats_source_line: str
    stats_top_title: str
    stats_top_line: str
    stats_decay_title: str
    stats_decay_line: str
    chart_growth: str
    chart_growth_base: str
    chart_growth_new: str
    chart_funnel: str
    chart_funnel_steps: tuple[str, ...]
    chart_segments: str
    chart_revenue: str
    chart_liability: str
    chart_liability_lapsing: str
    chart_later: str
    chart_never: str
    export_columns: tuple[str, ...]
    export_consent_active: str
    export_consent_pending: str
    export_consent_withdrawn: str
    export_yes: str
    export_no: str
    export_caption: str
    import_ask_file: str
    import_unreadable: str
    import_no_phone_column: str
    import_summary: str
    import_refused_title: str
    import_refused_line: str
    import_merges_title: str
    import_merge_row: str
    import_merge_base: str
    import_reason_phone_missing: str
    import_reason_phone: str
    import_reason_birthday: str
    import_reason_points: str
    import_reason_consent: str
    import_confirm: str
    import_cancel: str
    import_cancelled: str
    import_done: str
    import_nothing: str
    import_too_large: str
    phone_imported_share: str

    # A promise of points is made only when there are points to give (WELCOME_BONUS may be 0).
    mydata: str
    mydata_consent: str
    mydata_no_consents: str
    mydata_personal_data: str
    mydata_advertising: str
    mydata_granted: str
    mydata_withdrawn: str
    mydata_caption: str
    mydata_no_source: str
    stop_already: str
    ads_button_on: str
    ads_button_off: str
    ads_granted: str
    forget_nothing: str
    # Roles, the staff console, menus, /staff, /id, the first run (issue 13).
    command_descriptions: tuple[tuple[str, str], ...]  # command → its line in Telegram's menu
    role_names: tuple[tuple[str, str], ...]  # owner, manager, cashier
    console: str
    console_customer_button: str
    staff_help: str
    first_run: str
    your_id: str
    not_allowed: str
    stats_own: str
    staff_title: str
    staff_line: str
    staff_line_settings: str
    staff_inactive: str
    staff_invite_button: str
    staff_invite: str
    staff_member: str
    staff_make: str
    staff_deactivate_button: str
    staff_reactivate_button: str
    staff_back: str
    staff_changed: str
    staff_deactivated: str
    staff_reactivated: str
    staff_settings_owner: str
    staff_yourself: str
    invite_accepted_role: str

    # The till in the messenger: confirmed redemption, /return, /find, /my (issue 13).
    redeem_ask: str
    redeem_yes: str
    redeem_no: str
    redeem_confirmed: str
    redeem_declined: str
    redeem_gone: str
    redeem_not_enough: str
    redeem_answer_yes: str
    redeem_answer_no: str
    sale_waiting: str
    sale_without_points: str
    sale_wrong_code: str
    sale_unreachable: str
    sale_lapsed: str
    return_ask: str
    return_not_found: str
    return_receipt: str
    return_pick: str
    return_line: str
    return_ask_amount: str
    return_all: str
    return_bad_amount: str
    return_confirm: str
    return_go: str
    return_done: str
    return_shortfall: str
    return_duplicate: str
    return_nothing_left: str
    return_cancelled: str
    find_ask: str
    find_none: str
    find_pick: str
    find_card: str
    find_consent_given: str
    find_consent_missing: str
    find_ads_yes: str
    find_ads_no: str
    find_no_purchases: str
    find_purchase_line: str
    find_refunded: str
    find_sale: str
    find_return: str
    my_figures: str
    my_no_codes: str
    qr_employee_hint: str
    # Program settings (/program), the audit log (/audit), job texts (/schedule), profile edits.
    program_title: str
    program_line: str
    program_labels: tuple[tuple[str, str], ...]
    program_button: str
    program_ask: str
    program_hint_integer: str
    program_hint_percent: str
    program_hint_tiers: str
    program_bad_value: str
    program_confirm: str
    program_yes: str
    program_no: str
    program_changed: str
    program_same: str
    program_stale: str
    program_cancelled: str
    audit_title: str
    audit_empty: str
    audit_entry: str
    audit_channels: tuple[tuple[str, str], ...]
    audit_newer: str
    audit_older: str
    schedule_edit: str
    schedule_job_card: str
    schedule_default_text: str
    schedule_no_placeholders: str
    schedule_text_button: str
    schedule_reset_button: str
    schedule_bonus_button: str
    schedule_ask_text: str
    schedule_text_saved: str
    schedule_text_reset: str
    schedule_bad_placeholder: str
    schedule_text_too_long: str
    profile_edit_buttons: tuple[tuple[str, str], ...]
    profile_clear: str
    profile_saved: str
    profile_bonus_paid: str
    profile_edit_hint: str
    # /profile: a member's new phone (Telegram), and the note on WhatsApp's profile.
    profile_ask_phone: str
    profile_phone_taken: str
    wa_profile_phone_note: str

    # Promo codes: /promos, the cashier's step in /sale, the win-back message, /promo.
    menu_promos: str
    promos_title: str
    promos_line: str
    promos_until: str
    promos_personal: str
    promos_empty: str
    promos_hint: str
    promo_effect_percent: str
    promo_effect_fixed: str
    promo_effect_points: str
    promo_refusals: tuple[tuple[str, str], ...]
    sale_promo_button: str
    sale_ask_promo: str
    sale_no_promo: str
    sale_promo_applied: str
    sale_confirm_promo: str
    sale_done_promo: str
    winback: str
    winback_promotion: str  # the name of the win-back promotion, in DEFAULT_LANGUAGE
    promo_usage: str
    promo_created: str
    promo_created_personal: str
    promo_list_title: str
    promo_list_line: str
    promo_list_empty: str

    # The owner's broadcasts from the messenger (/broadcast, /campaigns).
    broadcast_pick_segment: str
    broadcast_everyone: str
    broadcast_saved_segment: str
    broadcast_build: str
    broadcast_nobody: str
    segment_builder: str
    segment_everyone: str
    segment_any: str
    segment_field_lifecycle: str
    segment_field_gender: str
    segment_field_birthday: str
    segment_field_tier: str
    segment_field_city: str
    segment_choose: str
    segment_lifecycles: tuple[tuple[str, str], ...]
    segment_months: tuple[str, ...]
    segment_reset: str
    segment_next: str
    segment_save: str
    segment_ask_name: str
    segment_name_bad: str
    segment_name_taken: str
    segment_saved_as: str
    segment_bad: str
    broadcast_ask_text: str
    broadcast_photo_no_text: str
    broadcast_text_expected: str
    broadcast_bad_text: str
    broadcast_ask_button: str
    broadcast_no_button: str
    broadcast_bad_button: str
    broadcast_preview_title: str
    broadcast_preview_unsubscribe: str
    broadcast_confirm: str
    broadcast_send_now: str
    broadcast_schedule: str
    broadcast_ask_time: str
    broadcast_bad_time: str
    broadcast_past_time: str
    broadcast_scheduled: str
    broadcast_refused: str
    campaign_progress: str
    campaign_eta_unknown: str
    campaign_states: tuple[tuple[str, str], ...]
    campaign_refresh: str
    campaign_pause: str
    campaign_resume: str
    campaign_stop: str
    campaign_results_button: str
    campaign_wrong_state: str
    campaign_not_found: str
    campaigns_title: str
    campaigns_empty: str
    campaigns_back: str
    campaign_card: str
    campaign_start_line: str
    campaign_results_text: str
    campaign_no_holdout: str
    # A broadcast's personal promo codes (issue 11).
    campaign_preparing: str
    broadcast_ask_promotion: str
    broadcast_no_promotion: str
    broadcast_bad_promotion: str
    promo_show_button: str
    promo_your_code: str
    promo_your_code_alert: str
    promo_no_code: str
    # WhatsApp: no slash commands, so keywords and a list menu; linking two messengers.
    wa_menu_button: str
    wa_menu_title: str
    wa_keywords: tuple[tuple[str, str], ...]  # (word a customer may type, action)
    wa_unknown: str
    wa_qr_line: str
    wa_stop_button: str
    wa_forget_button: str
    # /mydata: the messenger accounts and the requests to link one (Telegram and WhatsApp)
    mydata_accounts: str
    mydata_account: str
    mydata_link: str
    mydata_link_done: str
    mydata_link_open: str
    wa_mydata_button: str
    # Linking from Telegram: the phone of a WhatsApp-only member, confirmed from WhatsApp
    tg_link_offer: str
    tg_linked: str
    wa_tg_linked: str
    wa_link_unusable: str
    wa_link_offer: str
    wa_linked: str
    link_done: str
    link_unusable: str

    def declined_text(self, bonus: str | None) -> str:
        extra = self.consent_declined_bonus.format(bonus=bonus) if bonus else ""
        return self.consent_declined.format(bonus=extra)

    def welcome_text(self, name: str, shop: str, bonus: str | None, balance: str) -> str:
        line = self.welcome_bonus.format(bonus=bonus) if bonus else ""
        return self.welcome.format(name=name, shop=shop, bonus=line, balance=balance)

    def poster_call(self, bonus: str | None) -> str:
        return self.poster_call_to_action.format(bonus=bonus) if bonus else self.poster_call_to_join

    def points(self, amount: int) -> str:
        """`21 балл`, `22 балла`, `25 баллов`: Russian plural rules (English uses one and many)."""
        one, few, many = self.points_forms
        tail, tens = abs(amount) % 10, abs(amount) % 100
        if tail == 1 and tens != 11:
            form = one
        elif 2 <= tail <= 4 and not 12 <= tens <= 14:
            form = few
        else:
            form = many
        return f"{amount} {form}"


@dataclass(frozen=True)
class ShellTexts:
    """What `clientbase` prints in the owner's terminal, in the shop's DEFAULT_LANGUAGE.

    Setting errors stay in English: they name settings and may come before the language is known.
    """

    database_ready: str
    wrote: str
    source_on: str
    source_off: str
    no_source: str
    not_an_amount: str
    tokens_revoked: str
    token_keep_secret: str
    no_member: str
    only_points: str
    adjusted: str
    # `clientbase owner add|list|remove` (issue 13).
    owner_added: str
    owner_removed: str
    owner_unknown: str
    owner_in_settings: str
    owner_line: str
    owner_line_settings: str
    owners_none: str
    promo_created: str
    promo_line: str
    promo_none: str
    # Campaigns and segments from the shell (`clientbase broadcast|campaigns|segments`).
    segment_unknown: str
    segment_bad: str
    segment_saved: str
    segment_taken: str
    segment_deleted: str
    segments_none: str
    segment_line: str
    broadcast_count: str
    broadcast_ask: str
    broadcast_aborted: str
    broadcast_queued: str
    broadcast_scheduled: str
    broadcast_refused: str
    not_a_time: str
    no_file: str
    campaigns_none: str
    campaign_line: str
    campaign_results: str
    campaign_changed: str
    campaign_wrong_state: str
    campaign_missing: str
