"""English, for customers whose Telegram speaks English."""

from bot.texts.catalog import ShellTexts, Texts

EN = Texts(
    language="en",
    points_forms=("point", "points", "points"),
    consent_personal_data=(
        "<b>{shop}</b>: loyalty program\n\n"
        "To credit points and send you a card we need your consent to the processing of your "
        "personal data (name, phone, birthday, gender, city, interests, purchase history) by "
        "{operator} for the loyalty program, under Russian Federal Law 152-FZ on personal data. "
        "The consent is valid until you withdraw it; you can withdraw it at any time in your "
        "profile and your data will be deleted."
    ),
    consent_policy_link='\n\n<a href="{url}">Personal data policy</a>',
    consent_agree="✅ I agree",
    consent_decline="Decline",
    consent_declined=(
        "Understood. We have stored nothing about you.\n\n"
        "Without consent we cannot credit points{bonus}. "
        "If you change your mind, press the button below or /start."
    ),
    consent_declined_bonus=" or give the signup bonus ({bonus})",
    consent_changed_mind="I changed my mind",
    consent_advertising=(
        "Last question. Would you like to receive advertising from {shop}: offers, discounts "
        "and personal deals? This is a separate consent (Federal Law 38-FZ on advertising); "
        "saying no changes nothing else."
    ),
    ads_yes="Yes, send them",
    ads_no="No, thanks",
    progress="<i>Step {step} of {total}</i>\n",
    ask_name="What is your name?",
    ask_phone=(
        "Your phone number: the cashier finds your card by it. "
        "Press “📱 Share my number” below or type the number."
    ),
    ask_birthday=(
        "When is your birthday? Type the date, e.g. <code>25.03.1990</code>, or press “Skip”."
    ),
    ask_gender="Your gender?",
    ask_city="Which city do you live in? Type its name.",
    ask_city_buttons="Which city do you live in? Choose or type its name.",
    ask_interests="What are you interested in? Tick everything that fits and press “Done”.",
    back="⬅️ Back",
    skip="Skip",
    done="Done ✔️",
    share_phone="📱 Share my number",
    female="Female",
    male="Male",
    bad_name="Please type your name as text, 1 to 60 characters.",
    bad_phone=(
        "We could not read that number. Type it in full, e.g. <code>+7 916 123-45-67</code>, "
        "or press “📱 Share my number”."
    ),
    phone_not_own=(
        "That is someone else's contact. Press “📱 Share my number” to share yours, "
        "or type your number."
    ),
    phone_taken=(
        "This number is already linked to another Telegram account. We have told the shop: "
        "if the number is yours, they will contact you, or ask at the till. "
        "You can also give another number."
    ),
    bad_birthday_format=(
        "We did not understand the date. Type it like <code>25.03.1990</code>, or press “Skip”."
    ),
    bad_birthday_age="The date looks mistyped: check the year, e.g. <code>25.03.1990</code>.",
    use_buttons="Please choose with a button under the question.",
    text_expected="A text answer is needed here.",
    contact_expected="Press “📱 Share my number” or type the number.",
    resume="Let's continue where we left off.",
    welcome=(
        "Done, {name}! 🎉 You are in the {shop} loyalty program.\n{bonus}Balance: <b>{balance}</b>."
    ),
    welcome_bonus="You got <b>{bonus}</b> for joining. ",
    returning="Welcome back, {name}! Your balance: <b>{balance}</b>.",
    menu_balance="💰 Balance",
    menu_card="💳 My card",
    menu_profile="👤 Profile",
    menu_help="❓ Help",
    balance="You have <b>{balance}</b>.",
    menu_history="📜 History",
    menu_invite="🎁 Invite a friend",
    card_face_caption="Show at the till",
    profile_ads_on="on",
    profile_ads_off="off",
    profile=(
        "<b>Your profile</b>\nName: {name}\nPhone: {phone}\nBirthday: {birthday}\n"
        "Gender: {gender}\nCity: {city}\nInterests: {interests}\nMailings: {ads}"
    ),
    profile_empty="not given",
    help=(
        "This is the {shop} loyalty program. You earn points on purchases: show your card at the "
        "till (/card) or tell your phone number. Points can pay part of a purchase.\n\n"
        "/balance — balance and tier\n/card — your card for the till\n/history — operations\n"
        "/invite — invite a friend\n/profile — your profile and mailings\n"
        "/mydata — what we keep about you\n/stop — stop promotional messages\n"
        "/forget — withdraw consent and delete your data\n/help — help"
    ),
    help_short="Choose an item of the menu below or press /help.",
    not_signed_up="You are not in the program yet. Press /start to join.",
    balance_tier="Tier: <b>{tier}</b>, {percent}% back on purchases.",
    balance_next="Spend {left} more to reach “{tier}”.",
    balance_top="This is the top tier.",
    balance_expiring="⏳ {points} expire within 30 days.",
    card_caption="Your card <b>{code}</b>. Show the QR code at the till or tell the number.",
    history_title="<b>History</b> (page {page})",
    history_empty="No operations yet.",
    history_older="Older ▶️",
    history_newer="◀️ Newer",
    op_accrual="Purchase {amount}: +{points}",
    op_redemption="Paid with points: −{points}",
    op_bonus="Bonus {reason}: +{points}",
    op_expiry="Expired: −{points}",
    op_reversal="Purchase returned: −{points}",
    op_refund="Points returned: +{points}",
    op_adjustment="Adjustment: {points} ({reason})",
    bonus_reasons=(
        ("welcome", "for joining"),
        ("profile", "for the profile"),
        ("referral", "for a friend"),
        ("birthday", "for your birthday"),
    ),
    invite_text="Bring a friend: after their first purchase you both get {bonus}.\n\nYour link:\n{link}\n\nJoined through it: {joined}.",
    purchase_notice="🧾 Purchase of {amount}: {accrued} earned{redeemed}. Balance: <b>{balance}</b>.",
    purchase_redeemed=", {points} spent",
    purchase_friend_bonus="🎁 Plus {bonus} for your first purchase through a friend's invite (already in the balance).",
    refund_notice="↩️ Return of {amount}: {reversed} taken back, {returned} returned. Balance: <b>{balance}</b>.",
    tier_up="🎉 Congratulations! You are now “{tier}”: {percent}% back on every purchase.",
    referral_paid="🎁 Your friend made their first purchase: you got {bonus}!",
    staff_only="This command is for the shop's staff.",
    cashier_invite="A one-time link for a cashier{store} (valid 24 hours). Forward it to them:\n{link}",
    invite_accepted="You are now a cashier{store}. /sale records a purchase; you can also just scan a customer's card with the camera.",
    invite_unusable="This link was already used or has expired. Ask the owner for a new one.",
    sale_ask_customer="Scan the customer's card QR with the phone camera, or type the card number (8 digits) or phone.",
    sale_not_found="No such customer. Check the card number (8 digits) or the phone.",
    sale_card_typo="No such customer: the card number's check digit is wrong — a typo? Check all 8 digits.",
    sale_customer="Customer: <b>{name}</b>, {phone}\nBalance: <b>{balance}</b>, tier “{tier}”.",
    sale_ask_amount="The purchase amount in roubles, e.g. <code>1250</code> or <code>1250.50</code>.",
    sale_bad_amount="Could not read the amount. Type a number, e.g. <code>1250</code> or <code>1250.50</code>.",
    sale_ask_receipt="The receipt number: it prevents crediting twice. Or press “No number”.",
    sale_bad_receipt="That receipt number will not do: up to 64 visible characters, no control characters. Type it again or press “No number”.",
    sale_no_receipt="No number",
    sale_ask_redeem="Pay with points? Up to {max} (at most {cap}% of the check). Press a button or type a number.",
    sale_redeem_max="Spend {points}",
    sale_redeem_none="Don't spend",
    sale_bad_redeem="You can spend from 0 to {max}.",
    sale_confirm="Check:\nCustomer: <b>{name}</b>\nAmount: {amount}\nSpend: {redeem}\nTo pay: <b>{due}</b>\nWill earn: {accrue}",
    sale_go="✅ Record",
    sale_cancel="✖️ Cancel",
    sale_done="✅ Recorded. Earned {accrued}, spent {redeemed}. Customer's balance: <b>{balance}</b>.",
    sale_duplicate="This receipt was already recorded ({accrued} earned). Not credited again.",
    sale_duplicate_amount="This receipt was already recorded for {recorded} ({accrued} earned), and now {typed} was entered. Not credited again; if this is another purchase, give another receipt number.",
    sale_receipt_taken="This receipt was already recorded for another customer.",
    sale_not_enough="The customer has only {available} now. Start again: /sale",
    sale_cancelled="Cancelled. New purchase: /sale",
    receipt_printed="Scan with your camera to get points. Valid {hours} h.",
    receipt_usage="Type the amount and, if any, the receipt number: <code>/receipt 1250 R-42</code>",
    receipt_issued="Purchase QR for {amount}{receipt}. Let the customer scan it with the phone camera: the points land by themselves. Valid {hours} h.\n{link}",
    receipt_claimed="This receipt was already credited: no points again.",
    receipt_expired="This receipt QR has expired. Please ask at the till.",
    receipt_forged="This receipt QR is not valid. Please ask at the till.",
    receipt_voided="This receipt was refunded: no points for it.",
    receipt_after_signup="We will credit the purchase right after you join.",
    forget_button="🗑 Withdraw consent and delete my data",
    forget_confirm=(
        "Withdraw your consent to personal data processing? We will delete your name, phone, "
        "birthday, gender, city, interests and the link to your Telegram account, your card will "
        "stop working and your points ({balance}) will lapse. This cannot be undone."
    ),
    forget_yes="Yes, delete",
    forget_no="No, keep it",
    forgotten=(
        "Consent withdrawn, your data is deleted: name, phone, birthday, gender, city, interests "
        "and the link to your Telegram account.\n\nWhat is kept and why: the records of when you "
        "gave and withdrew your consent, with the consent texts, because the law (152-FZ) requires "
        "the shop to prove them; purchases and points operations, for the accounts. They no longer "
        "identify you. We will not message you again. To come back: /start."
    ),
    forget_kept="Fine, nothing changed.",
    owner_only="This command is for the shop owner only.",
    qr_ask_store="Which store is the QR code for? Choose or type its name (address).",
    qr_ask_campaign="Where will it hang, or which campaign is it? Choose or type.",
    qr_ask_employee=("Whose code is it? Choose, type a name or press “No employee”."),
    qr_no_employee="No employee",
    qr_all_employees="All employees of this store",
    qr_no_employees_known="This store has no employees with QR codes yet: type a name.",
    qr_bad_name="Type the name as text, up to 100 characters.",
    qr_making="Making the QR codes and posters…",
    qr_caption="<b>{label}</b>\n{url}\n\nA4 and A6 posters below. Reprinting gives the same code.",
    poster_call_to_action="Scan and get {bonus}",
    poster_call_to_join="Scan and join the program",
    poster_subtitle="{shop} loyalty program in Telegram",
    poster_link_hint="Cannot scan? Open the link:",
    sources_empty="No sources yet. Make a QR code with /qr.",
    sources_title="Funnel by source",
    funnel_columns=(
        "#",
        "Source",
        "Opened",
        "Consent",
        "Declined",
        "Signed up",
        "Conv.",
        "Customers",
        "Purchase",
    ),
    funnel_unknown="no source",
    funnel_best="Best: {label} — {conversion}",
    funnel_worst="Worst: {label} — {conversion}",
    funnel_receipt_share="Purchases claimed by receipt QR: {claimed} of {total} ({share})",
    campaign_presets=("Till", "Poster", "Receipt", "Flyer"),
    already_done="Already done 👌",
    sorry="Sorry, something went wrong. Please try again a little later.",
    cancel_word="cancel",
    form_cancel="✖️ Cancel",
    cancelled="Cancelled.",
    nothing_to_cancel="Nothing to cancel: no form is open.",
    owner_phone_conflict=(
        "⚠️ Another Telegram account (customer #{claimant}) tries to use the phone number of "
        "customer #{owner_customer}. Not merged automatically: please check."
    ),
    owner_pos_auth_failures=(
        "⚠️ Till API: {count} requests with a wrong token in a row from {address}. "
        "The address is blocked for a while. If this is not your till, someone is guessing tokens."
    ),
    owner_pos_lookup_misses=(
        "⚠️ Till “{store}” ({address}): {count} card or phone lookups found nobody. "
        "Lookups are paused for a while: it looks like someone is trying numbers."
    ),
    broadcast_button="Learn more",
    unsubscribe_button="🔕 Unsubscribe",
    unsubscribed=(
        "Done: no more promotional messages. Notices about your points and purchases keep coming."
    ),
    birthday_greeting="🎂 Happy birthday! Thank you for being with us.",
    birthday_gift="Here is a gift of {bonus}, valid until {expires}.",
    points_expiring="⏳ {points} lapse on {date}. Spend them before then!",
    balance_digest="📊 You have <b>{points}</b>, tier “{tier}”. See you soon!",
    schedule_title="<b>Schedule</b> (times: {zone})",
    schedule_job="{state} <b>{name}</b>\nNext run: {next}\nLast: {last}",
    schedule_last="{period} — {state}, done {done}, skipped {skipped}",
    schedule_never="never run yet",
    schedule_on="🟢",
    schedule_off="⚪️ off ·",
    schedule_turn_on="Turn on: {name}",
    schedule_turn_off="Turn off: {name}",
    schedule_states=(
        ("done", "done"),
        ("failed", "failed"),
        ("running", "running"),
        ("skipped", "off"),
    ),
    job_names=(
        ("birthday", "Birthdays"),
        ("expiring_points", "Points expiring reminder"),
        ("points_expiry", "Lapsed points write-off"),
        ("balance_digest", "Monthly balance digest"),
        ("housekeeping", "Personal data housekeeping"),
    ),
    stats_summary=(
        "📊 <b>The base on {date}</b>\n"
        "Customers: {customers} (this week +{new_week})\n"
        "Active (bought within {active_days} days): {active_share}\n"
        "Average check: {average_check}; repeat purchases: {repeat_rate}\n"
        "Points outstanding: {outstanding}, lapsing within 30 days: {lapsing}\n"
        "Segments: {segments}"
    ),
    stats_segments=("potential", "one purchase", "active", "VIP", "gone quiet", "cooling"),
    stats_sources_title="LTV by source (revenue per customer):",
    stats_source_line="{label}: {customers} customers, LTV {ltv}",
    stats_top_title="Top customers:",
    stats_top_line="{rank}. {name} {phone} — {spend}, purchases: {purchases}",
    stats_decay_title="Base decay (unreachable / inactive):",
    stats_decay_line="{date}: {customers} customers, unreachable {unreachable}, inactive {inactive}",
    chart_growth="Base growth by week",
    chart_growth_base="whole base",
    chart_growth_new="new this week",
    chart_funnel="Signup funnel",
    chart_funnel_steps=("opened", "consent", "questionnaire", "first purchase"),
    chart_segments="Customer segments",
    chart_revenue="Revenue by week, ₽",
    chart_liability="Points outstanding: {outstanding}; when they lapse",
    chart_liability_lapsing="points lapsing",
    chart_later="later",
    chart_never="never",
    export_columns=(
        "No",
        "Card",
        "Name",
        "Phone",
        "Birthday",
        "Gender",
        "City",
        "Source",
        "Consent state",
        "Consent",
        "Advertising",
        "Tier",
        "Points",
        "Purchases",
        "Spend, ₽",
        "Last purchase",
        "Imported",
        "Invite link",
    ),
    export_consent_active="active",
    export_consent_pending="awaiting consent",
    export_consent_withdrawn="withdrawn",
    export_yes="yes",
    export_no="no",
    export_caption="Customers: {customers}; personal data only for the {with_data} whose consent is in force.",
    import_ask_file="Send the file with your base (Excel .xlsx or CSV). A “Phone” column is needed; “Name”, “Birthday”, “Gender”, “City”, “Points”, “Consent” (a date) are optional. I will show what would happen first and ask you to confirm.",
    import_unreadable="I could not read the file: send an Excel (.xlsx) or CSV file.",
    import_no_phone_column="The first row of the file has no “Phone” column.",
    import_summary=(
        "Rows in the file: {rows}. New customers: {new}, merged by phone: {merged}, "
        "rows refused: {refused}. Points to credit: {points}.\n"
        "Without a consent date: {pending} — nothing will be sent to them until they consent "
        "in the bot themselves (their personal invite links come with the report)."
    ),
    import_refused_title="Refused:",
    import_refused_line="row {row}: {reason}",
    import_merges_title="Merged by phone:",
    import_merge_row="row {row} → row {into} (same phone)",
    import_merge_base="row {row} → customer #{customer} in the base (profile kept, points added)",
    import_reason_phone_missing="no phone",
    import_reason_phone="phone not recognised",
    import_reason_birthday="birthday not recognised",
    import_reason_points="points are not a whole number",
    import_reason_consent="consent date not recognised or in the future",
    import_confirm="✅ Import",
    import_cancel="Cancel",
    import_cancelled="Import cancelled, nothing written.",
    import_done="Done: {new} new customers, {merged} merged, {points} points credited.",
    import_nothing="The file has no row that can be imported.",
    import_too_large="The file is too large for a Telegram bot (over 20 MB): import it with clientbase import.",
    phone_imported_share="This number is already in the shop's records. To confirm it is yours, press “📱 Share my number” below, and your points come with it.",
    mydata=(
        "<b>What we keep about you</b>\nName: {name}\nPhone: {phone}\nBirthday: {birthday}\n"
        "Gender: {gender}\nCity: {city}\nInterests: {interests}\nLanguage: {language}\n"
        "Where you came from: {source}\nMember since: {joined}\nBalance: {balance}\n"
        "Purchases: {purchases}, {spent} ₽ in total\nMailings: {ads}\n\n<b>Consents</b>\n{consents}"
    ),
    mydata_consent="{at} — {kind}: {state} (text version {version})",
    mydata_no_consents="no records",
    mydata_personal_data="personal data processing",
    mydata_advertising="promotional messages",
    mydata_granted="given",
    mydata_withdrawn="withdrawn",
    mydata_caption="All your data in one file, with the texts of the consents.",
    mydata_no_source="unknown",
    stop_already="Promotional messages are already off. Notices about your points and purchases keep coming.",
    ads_button_on="🔔 Receive mailings",
    ads_button_off="🔕 Stop mailings",
    ads_granted="Done: we will send you offers and news. You can stop them at any time — /stop.",
    forget_nothing="We hold no data about you.",
    wa_menu_button="Menu",
    wa_menu_title="What shall I show? Pick an item or type a word: balance, card, history, invite, profile, stop, forget.",
    wa_keywords=(
        ("menu", "menu"),
        ("balance", "balance"),
        ("card", "card"),
        ("history", "history"),
        ("invite", "invite"),
        ("profile", "profile"),
        ("stop", "stop"),
        ("unsubscribe", "stop"),
        ("forget", "forget"),
        ("help", "help"),
    ),
    wa_unknown="Sorry, I did not get that. Type “menu” or pick an item below.",
    wa_qr_line="I want to join the loyalty program, my code:",
    wa_stop_button="Stop promotions",
    wa_forget_button="Delete my data",
    wa_link_offer=(
        "This number is already in the program through Telegram. To use your card here too, "
        "send our Telegram bot: <code>/link {code}</code> (the code is good for a day). "
        "Nothing is merged without that confirmation from Telegram."
    ),
    wa_linked="Done: WhatsApp is linked to your card, {name}. Balance: <b>{balance}</b>.",
    link_done="Done: WhatsApp is linked to your card. Points and history are shared.",
    link_unusable="That code does not work: it is wrong, expired or used. Ask for a new one in WhatsApp.",
)

EN_SHELL = ShellTexts(
    database_ready="The database schema is up to date: {database}",
    wrote="  wrote {path}",
    source_on="on ",
    source_off="off",
    no_source="no source {id}",
    not_an_amount="not an amount in roubles: {text!r} (e.g. 1250 or 1250.50)",
    tokens_revoked="revoked {count} token(s) of {store!r}",
    token_keep_secret="  keep it secret: it records purchases for this store. Shown once.",
    no_member="no member with card or phone {customer!r}",
    only_points="the member has only {points}",
    adjusted="{name} {phone}: {points:+d}, balance {balance}",
)
