"""Russian: the default language of the bot."""

from bot.texts.catalog import ShellTexts, Texts

RU = Texts(
    language="ru",
    points_forms=("балл", "балла", "баллов"),
    consent_personal_data=(
        "<b>{shop}</b>: программа лояльности\n\n"
        "Чтобы начислять баллы и присылать вам карту, нам нужно ваше согласие на обработку "
        "персональных данных (имя, телефон, дата рождения, пол, город, интересы, история "
        "покупок) оператором {operator} в целях участия в программе лояльности, согласно "
        "152-ФЗ «О персональных данных». Согласие действует до его отзыва; отозвать его можно "
        "в любой момент в профиле, и данные будут удалены."
    ),
    consent_policy_link='\n\n<a href="{url}">Политика обработки персональных данных</a>',
    consent_agree="✅ Согласен(на)",
    consent_decline="Отказаться",
    consent_declined=(
        "Понимаем. Мы ничего о вас не сохранили.\n\n"
        "Без согласия мы не можем начислять баллы{bonus}. "
        "Если передумаете — нажмите кнопку ниже или /start."
    ),
    consent_declined_bonus=" и дарить бонус за регистрацию ({bonus})",
    consent_changed_mind="Я передумал(а)",
    consent_advertising=(
        "Последний вопрос. Хотите получать от {shop} рекламные рассылки: акции, скидки и "
        "персональные предложения? Это отдельное согласие по 38-ФЗ «О рекламе»; отказ ни на "
        "что не влияет."
    ),
    ads_yes="Да, присылайте",
    ads_no="Нет, спасибо",
    progress="<i>Шаг {step} из {total}</i>\n",
    ask_name="Как вас зовут?",
    ask_phone=(
        "Ваш номер телефона — по нему кассир найдёт вашу карту. "
        "Нажмите кнопку «📱 Отправить номер» внизу или напишите номер."
    ),
    ask_birthday=(
        "Когда у вас день рождения? "
        "Напишите дату, например <code>25.03.1990</code>, или нажмите «Пропустить»."
    ),
    ask_gender="Ваш пол?",
    ask_city="В каком городе вы живёте? Напишите название.",
    ask_city_buttons="В каком городе вы живёте? Выберите или напишите название.",
    ask_interests="Что вам интересно? Отметьте всё, что подходит, и нажмите «Готово».",
    back="⬅️ Назад",
    skip="Пропустить",
    done="Готово ✔️",
    share_phone="📱 Отправить номер",
    female="Женский",
    male="Мужской",
    bad_name="Напишите, пожалуйста, имя текстом — от 1 до 60 символов.",
    bad_phone=(
        "Не получилось распознать номер. Напишите его полностью, например "
        "<code>+7 916 123-45-67</code>, или нажмите «📱 Отправить номер»."
    ),
    phone_not_own=(
        "Это чужой контакт. Нажмите «📱 Отправить номер», чтобы поделиться своим, "
        "или напишите свой номер."
    ),
    phone_taken=(
        "Этот номер уже привязан к другому аккаунту Telegram. Мы сообщили об этом магазину — "
        "если номер ваш, к вам обратятся или подойдите к кассе. Можно указать другой номер."
    ),
    bad_birthday_format=(
        "Не поняли дату. Напишите её так: <code>25.03.1990</code> — или нажмите «Пропустить»."
    ),
    bad_birthday_age="Похоже, в дате опечатка: проверьте год. Например: <code>25.03.1990</code>.",
    use_buttons="Выберите вариант кнопкой под вопросом.",
    text_expected="Здесь нужен ответ текстом.",
    contact_expected="Нажмите «📱 Отправить номер» или напишите номер текстом.",
    resume="Продолжим с того места, где остановились.",
    welcome=(
        "Готово, {name}! 🎉 Вы в программе лояльности {shop}.\n{bonus}Баланс: <b>{balance}</b>."
    ),
    welcome_bonus="Вам начислено <b>{bonus}</b> за регистрацию. ",
    returning="С возвращением, {name}! Ваш баланс: <b>{balance}</b>.",
    menu_balance="💰 Баланс",
    menu_card="💳 Моя карта",
    menu_profile="👤 Профиль",
    menu_help="❓ Помощь",
    balance="На вашем счёте <b>{balance}</b>.",
    menu_history="📜 История",
    menu_invite="🎁 Пригласить друга",
    card_face_caption="Покажите кассиру",
    profile_ads_on="получаю",
    profile_ads_off="не получаю",
    profile=(
        "<b>Ваш профиль</b>\nИмя: {name}\nТелефон: {phone}\nДень рождения: {birthday}\n"
        "Пол: {gender}\nГород: {city}\nИнтересы: {interests}\nРассылки: {ads}"
    ),
    profile_empty="не указано",
    help=(
        "Это программа лояльности {shop}. Баллы начисляются за покупки: покажите кассиру карту "
        "(/card) или назовите телефон. Баллами можно оплатить часть покупки.\n\n"
        "/balance — баланс и уровень\n/card — карта для кассы\n/history — история операций\n"
        "/invite — пригласить друга\n/profile — профиль и рассылки\n"
        "/mydata — какие данные о вас хранятся\n/stop — отказаться от рекламных рассылок\n"
        "/forget — отозвать согласие и удалить данные\n/help — помощь"
    ),
    help_short="Выберите пункт меню ниже или нажмите /help.",
    not_signed_up="Вы ещё не в программе. Нажмите /start, чтобы присоединиться.",
    balance_tier="Уровень: <b>{tier}</b>, {percent}% с покупок.",
    balance_next="До уровня «{tier}» осталось потратить {left}.",
    balance_top="Это максимальный уровень.",
    balance_expiring="⏳ {points} сгорят в ближайшие 30 дней.",
    card_caption="Ваша карта <b>{code}</b>. Покажите QR-код кассиру или назовите номер.",
    history_title="<b>История операций</b> (стр. {page})",
    history_empty="Операций пока нет.",
    history_older="Раньше ▶️",
    history_newer="◀️ Позже",
    op_accrual="Покупка {amount}: +{points}",
    op_redemption="Оплата баллами: −{points}",
    op_bonus="Бонус {reason}: +{points}",
    op_expiry="Сгорели: −{points}",
    op_reversal="Возврат покупки: −{points}",
    op_refund="Баллы возвращены: +{points}",
    op_adjustment="Корректировка: {points} ({reason})",
    bonus_reasons=(
        ("welcome", "за регистрацию"),
        ("profile", "за анкету"),
        ("referral", "за друга"),
        ("birthday", "ко дню рождения"),
    ),
    invite_text="Приведите друга: после его первой покупки вы оба получите {bonus}.\n\nВаша ссылка:\n{link}\n\nПо ней присоединились: {joined}.",
    purchase_notice="🧾 Покупка на {amount}: начислено {accrued}{redeemed}. Баланс: <b>{balance}</b>.",
    purchase_redeemed=", списано {points}",
    purchase_friend_bonus="🎁 И ещё {bonus} — за первую покупку по приглашению друга (они уже в балансе).",
    refund_notice="↩️ Возврат на {amount}: списано {reversed}, возвращено {returned}. Баланс: <b>{balance}</b>.",
    tier_up="🎉 Поздравляем! Ваш уровень теперь «{tier}»: {percent}% с каждой покупки.",
    referral_paid="🎁 Ваш друг совершил первую покупку — вам начислено {bonus}!",
    staff_only="Эта команда для сотрудников магазина.",
    cashier_invite="Одноразовая ссылка для кассира{store} (действует 24 часа). Перешлите её сотруднику:\n{link}",
    invite_accepted="Вы добавлены как кассир{store}. /sale — провести покупку; можно просто отсканировать карту клиента камерой.",
    invite_unusable="Эта ссылка уже использована или устарела. Попросите у владельца новую.",
    sale_ask_customer="Отсканируйте QR-код карты клиента камерой телефона или введите номер карты (8 цифр) или телефон.",
    sale_not_found="Клиент не найден. Проверьте номер карты (8 цифр) или телефон.",
    sale_card_typo="Клиент не найден: в номере карты не сходится контрольная цифра — опечатка? Проверьте все 8 цифр.",
    sale_customer="Клиент: <b>{name}</b>, {phone}\nБаланс: <b>{balance}</b>, уровень «{tier}».",
    sale_ask_amount="Сумма покупки в рублях, например <code>1250</code> или <code>1250,50</code>.",
    sale_bad_amount="Не понял сумму. Напишите число, например <code>1250</code> или <code>1250,50</code>.",
    sale_ask_receipt="Номер чека — он защищает от двойного начисления. Или нажмите «Без номера».",
    sale_bad_receipt="Такой номер чека не подходит: до 64 видимых символов, без служебных. Напишите номер ещё раз или нажмите «Без номера».",
    sale_no_receipt="Без номера",
    sale_ask_redeem="Списать баллы? Можно до {max} (не больше {cap}% чека). Нажмите кнопку или напишите число.",
    sale_redeem_max="Списать {points}",
    sale_redeem_none="Не списывать",
    sale_bad_redeem="Можно списать от 0 до {max}.",
    sale_confirm="Проверьте:\nКлиент: <b>{name}</b>\nСумма: {amount}\nСписать: {redeem}\nК оплате: <b>{due}</b>\nНачислится: {accrue}",
    sale_go="✅ Провести",
    sale_cancel="✖️ Отмена",
    sale_done="✅ Проведено. Начислено {accrued}, списано {redeemed}. Баланс клиента: <b>{balance}</b>.",
    sale_duplicate="Этот чек уже проведён (начислено {accrued}). Повторно не начисляем.",
    sale_duplicate_amount="Этот чек уже проведён на {recorded} (начислено {accrued}), а сейчас введено {typed}. Повторно не начисляем; если это другая покупка — укажите другой номер чека.",
    sale_receipt_taken="Этот чек уже проведён на другого клиента.",
    sale_not_enough="У клиента сейчас только {available}. Начните заново: /sale",
    sale_cancelled="Отменено. Новая покупка: /sale",
    receipt_printed="Сканируйте камерой — баллы начислятся. QR действует {hours} ч.",
    receipt_usage="Напишите сумму и, если есть, номер чека: <code>/receipt 1250 R-42</code>",
    receipt_issued="QR-код покупки на {amount}{receipt}. Пусть клиент отсканирует его камерой телефона — баллы начислятся сами. Действует {hours} ч.\n{link}",
    receipt_claimed="Этот чек уже зачислен — повторно баллы не начисляются.",
    receipt_expired="Срок действия QR-кода с чека истёк. Обратитесь к кассиру.",
    receipt_forged="QR-код чека не распознан. Обратитесь к кассиру.",
    receipt_voided="По этому чеку оформлен возврат — баллы не начисляются.",
    receipt_after_signup="Баллы за покупку начислим сразу после регистрации.",
    forget_button="🗑 Отозвать согласие и удалить данные",
    forget_confirm=(
        "Отозвать согласие на обработку персональных данных? Мы удалим ваше имя, телефон, день "
        "рождения, пол, город, интересы и связь с вашим аккаунтом Telegram, карта перестанет "
        "действовать, баллы ({balance}) сгорят. Это нельзя отменить."
    ),
    forget_yes="Да, удалить",
    forget_no="Нет, оставить",
    forgotten=(
        "Согласие отозвано, ваши данные удалены: имя, телефон, день рождения, пол, город, "
        "интересы и связь с вашим аккаунтом Telegram.\n\nЧто осталось и почему: записи о том, "
        "когда вы дали и отозвали согласие, и тексты согласий — закон (152-ФЗ) обязывает магазин "
        "их доказать; покупки и операции с баллами — для бухгалтерского учёта. Узнать вас по ним "
        "уже нельзя. Сообщений от нас больше не будет. Если захотите вернуться — /start."
    ),
    forget_kept="Хорошо, всё осталось как было.",
    owner_only="Эта команда доступна только владельцу магазина.",
    qr_ask_store="Для какой точки QR-код? Выберите или напишите название (адрес).",
    qr_ask_campaign="Где он будет висеть или какая это акция? Выберите или напишите.",
    qr_ask_employee=("Чей это код? Выберите, напишите имя или нажмите «Без сотрудника»."),
    qr_no_employee="Без сотрудника",
    qr_all_employees="Все сотрудники точки",
    qr_no_employees_known="У этой точки ещё нет сотрудников с QR-кодами: напишите имя.",
    qr_bad_name="Напишите название текстом, до 100 символов.",
    qr_making="Готовлю QR-коды и плакаты…",
    qr_caption="<b>{label}</b>\n{url}\n\nПлакаты A4 и A6 — ниже. Повторная печать даст тот же код.",
    poster_call_to_action="Сканируйте и получите {bonus}",
    poster_call_to_join="Сканируйте и вступайте в программу",
    poster_subtitle="Программа лояльности {shop} в Telegram",
    poster_link_hint="Не получается отсканировать? Откройте ссылку:",
    sources_empty="Источников пока нет. Создайте QR-код командой /qr.",
    sources_title="Воронка по источникам",
    funnel_columns=(
        "№",
        "Источник",
        "Открыли",
        "Согласие",
        "Отказ",
        "Анкета",
        "Конв.",
        "Клиенты",
        "Покупка",
    ),
    funnel_unknown="без источника",
    funnel_best="Лучший: {label} — {conversion}",
    funnel_worst="Худший: {label} — {conversion}",
    funnel_receipt_share="Покупок по QR с чека: {claimed} из {total} ({share})",
    campaign_presets=("Касса", "Плакат", "Чек", "Листовка"),
    already_done="Уже сделано 👌",
    sorry="Извините, что-то пошло не так. Попробуйте ещё раз чуть позже.",
    cancel_word="отмена",
    form_cancel="✖️ Отмена",
    cancelled="Отменено.",
    nothing_to_cancel="Отменять нечего: вы ничего не заполняете.",
    owner_phone_conflict=(
        "⚠️ Номер клиента №{owner_customer} пытается указать другой аккаунт Telegram "
        "(клиент №{claimant}). Автоматически не объединяем — проверьте, пожалуйста."
    ),
    owner_pos_auth_failures=(
        "⚠️ Касса: {count} запросов с неверным токеном подряд с адреса {address}. "
        "Адрес временно заблокирован. Если это не ваша касса, проверьте, кто её подбирает."
    ),
    owner_pos_lookup_misses=(
        "⚠️ Касса «{store}» ({address}): {count} поисков клиента по карте или телефону без "
        "результата. Поиск временно приостановлен: похоже на перебор номеров."
    ),
    broadcast_button="Подробнее",
    unsubscribe_button="🔕 Отписаться от рассылки",
    unsubscribed=(
        "Готово: рекламных рассылок больше не будет. Сообщения о баллах и покупках "
        "приходят как прежде."
    ),
    birthday_greeting="🎂 С днём рождения! Спасибо, что вы с нами.",
    birthday_gift="Дарим вам {bonus} — они действуют до {expires}.",
    points_expiring="⏳ {date} сгорят {points}. Успейте потратить их на покупку!",
    balance_digest="📊 На вашем счёте <b>{points}</b>, уровень «{tier}». Ждём вас снова!",
    schedule_title="<b>Расписание</b> (время: {zone})",
    schedule_job="{state} <b>{name}</b>\nСледующий запуск: {next}\nПоследний: {last}",
    schedule_last="{period} — {state}, сделано {done}, пропущено {skipped}",
    schedule_never="ещё не запускалось",
    schedule_on="🟢",
    schedule_off="⚪️ выключено ·",
    schedule_turn_on="Включить: {name}",
    schedule_turn_off="Выключить: {name}",
    schedule_states=(
        ("done", "готово"),
        ("failed", "ошибка"),
        ("running", "идёт"),
        ("skipped", "выключено"),
    ),
    job_names=(
        ("birthday", "Дни рождения"),
        ("expiring_points", "Напоминание о сгорании баллов"),
        ("points_expiry", "Списание сгоревших баллов"),
        ("balance_digest", "Ежемесячная сводка баланса"),
        ("housekeeping", "Очистка персональных данных"),
    ),
    stats_summary=(
        "📊 <b>База на {date}</b>\n"
        "Клиентов: {customers} (за эту неделю +{new_week})\n"
        "Активных (покупка за {active_days} дн.): {active_share}\n"
        "Средний чек: {average_check}; повторные покупки: {repeat_rate}\n"
        "Баллов на руках: {outstanding}, из них сгорит за 30 дней: {lapsing}\n"
        "Сегменты: {segments}"
    ),
    stats_segments=("потенциальные", "одна покупка", "активные", "VIP", "уснувшие", "остывают"),
    stats_sources_title="LTV по источникам (выручка на клиента):",
    stats_source_line="{label}: {customers} клиентов, LTV {ltv}",
    stats_top_title="Лучшие клиенты:",
    stats_top_line="{rank}. {name} {phone} — {spend}, покупок: {purchases}",
    stats_decay_title="Старение базы (недоступны / неактивны):",
    stats_decay_line="{date}: {customers} клиентов, недоступны {unreachable}, неактивны {inactive}",
    chart_growth="Рост базы по неделям",
    chart_growth_base="вся база",
    chart_growth_new="новые за неделю",
    chart_funnel="Воронка регистрации",
    chart_funnel_steps=("открыли", "согласие", "анкета", "первая покупка"),
    chart_segments="Сегменты клиентов",
    chart_revenue="Выручка по неделям, ₽",
    chart_liability="Баллы на руках: {outstanding}; когда сгорят",
    chart_liability_lapsing="сгорит баллов",
    chart_later="позже",
    chart_never="бессрочно",
    export_columns=(
        "№",
        "Карта",
        "Имя",
        "Телефон",
        "День рождения",
        "Пол",
        "Город",
        "Источник",
        "Статус согласия",
        "Согласие",
        "Реклама",
        "Уровень",
        "Баллы",
        "Покупок",
        "Сумма покупок, ₽",
        "Последняя покупка",
        "Импортирован",
        "Ссылка-приглашение",
    ),
    export_consent_active="действует",
    export_consent_pending="ждёт согласия",
    export_consent_withdrawn="отозвано",
    export_yes="да",
    export_no="нет",
    export_caption="Клиентов: {customers}; персональные данные — только у {with_data} с действующим согласием.",
    import_ask_file="Пришлите файл с базой (Excel .xlsx или CSV). Нужна колонка «Телефон»; можно также «Имя», «День рождения», «Пол», «Город», «Баллы», «Согласие» (дата). Сначала покажу, что получится, и спрошу подтверждение.",
    import_unreadable="Не получилось прочитать файл: пришлите Excel (.xlsx) или CSV.",
    import_no_phone_column="В первой строке файла нет колонки «Телефон» (или «Phone»).",
    import_summary=(
        "Строк в файле: {rows}. Новых клиентов: {new}, объединится по телефону: {merged}, "
        "отклонено строк: {refused}. Баллов к зачислению: {points}.\n"
        "Без даты согласия: {pending} — им ничего не будет отправлено, пока они сами не "
        "согласятся в боте (личные ссылки-приглашения будут в отчёте)."
    ),
    import_refused_title="Не возьму:",
    import_refused_line="строка {row}: {reason}",
    import_merges_title="Объединю по телефону:",
    import_merge_row="строка {row} → строка {into} (тот же телефон)",
    import_merge_base="строка {row} → клиент №{customer} из базы (анкету не меняю, только баллы)",
    import_reason_phone_missing="нет телефона",
    import_reason_phone="телефон не распознан",
    import_reason_birthday="дата рождения не распознана",
    import_reason_points="баллы — не целое число",
    import_reason_consent="дата согласия не распознана или в будущем",
    import_confirm="✅ Загрузить",
    import_cancel="Отмена",
    import_cancelled="Загрузка отменена, ничего не записано.",
    import_done="Готово: загружено новых клиентов {new}, объединено {merged}, начислено баллов {points}.",
    import_nothing="В файле нет ни одной строки, которую можно загрузить.",
    import_too_large="Файл слишком большой для Telegram-бота (больше 20 МБ): загрузите его командой clientbase import.",
    phone_imported_share="Этот номер уже есть в базе магазина. Чтобы подтвердить, что он ваш, нажмите кнопку «📱 Отправить номер» ниже — тогда ваши баллы перейдут к вам.",
    mydata=(
        "<b>Что мы храним о вас</b>\nИмя: {name}\nТелефон: {phone}\nДень рождения: {birthday}\n"
        "Пол: {gender}\nГород: {city}\nИнтересы: {interests}\nЯзык: {language}\n"
        "Откуда вы пришли: {source}\nВ программе с: {joined}\nБаланс: {balance}\n"
        "Покупки: {purchases}, на сумму {spent} ₽\nРассылки: {ads}\n\n<b>Согласия</b>\n{consents}"
    ),
    mydata_consent="{at} — {kind}: {state} (версия текста {version})",
    mydata_no_consents="нет записей",
    mydata_personal_data="обработка персональных данных",
    mydata_advertising="рекламные рассылки",
    mydata_granted="дано",
    mydata_withdrawn="отозвано",
    mydata_caption="Все ваши данные одним файлом, с текстами согласий.",
    mydata_no_source="неизвестно",
    stop_already="Рекламные рассылки уже отключены. Сообщения о баллах и покупках приходят как прежде.",
    ads_button_on="🔔 Получать рассылки",
    ads_button_off="🔕 Отказаться от рассылок",
    ads_granted="Готово: будем присылать акции и новости. Отказаться можно в любой момент — /stop.",
    forget_nothing="У нас нет ваших данных.",
    command_descriptions=(
        ("start", "Начало и ваше меню"),
        ("card", "Карта для кассы"),
        ("balance", "Баланс и уровень"),
        ("history", "История операций"),
        ("invite", "Пригласить друга"),
        ("profile", "Профиль и рассылки"),
        ("mydata", "Какие данные о вас хранятся"),
        ("help", "Помощь"),
        ("id", "Мой Telegram id"),
        ("sale", "Провести покупку"),
        ("receipt", "QR-код на чек"),
        ("stats", "Статистика"),
        ("sources", "Источники клиентов"),
        ("qr", "QR-коды и плакаты"),
        ("staff", "Сотрудники"),
        ("export", "Выгрузить базу"),
        ("import", "Загрузить базу"),
        ("schedule", "Расписание рассылок"),
    ),
    role_names=(("owner", "владелец"), ("manager", "менеджер"), ("cashier", "кассир")),
    console="Вы — <b>{role}</b> магазина.\n\nЧто можно сделать:\n{commands}",
    console_customer_button="🛍 Я тоже клиент",
    staff_help="Вы — <b>{role}</b>. Ваши команды:\n{commands}\n\nКопить баллы как клиент: /start → «Я тоже клиент».",
    first_run=(
        "У бота ещё нет владельца.\n\nЕсли владелец — вы, выполните на сервере:\n"
        "<code>clientbase owner add {id}</code>\nи снова нажмите /start. Ваш Telegram id: <code>{id}</code>"
    ),
    your_id="Ваш Telegram id: <code>{id}</code>",
    not_allowed="Недостаточно прав.",
    stats_own=(
        "<b>Ваши клиенты</b> (источников с вашим именем: {sources})\n"
        "Клиентов: {customers}, новых за неделю: {new}\nПокупок: {purchases} на {revenue}"
    ),
    staff_title="<b>Сотрудники</b>",
    staff_line="{name} — {role}{store}{inactive}",
    staff_line_settings="id {id} — владелец (OWNER_IDS)",
    staff_inactive=" ⛔ отключён",
    staff_invite_button="➕ Пригласить: {role}",
    staff_invite="Одноразовая ссылка: {role}{store} (действует 24 часа). Перешлите её сотруднику:\n{link}",
    staff_member="<b>{name}</b> — {role}{store}{inactive}\nid {id}",
    staff_make="Сделать: {role}",
    staff_deactivate_button="⛔ Отключить",
    staff_reactivate_button="✅ Вернуть",
    staff_back="◀️ К списку",
    staff_changed="Готово: {name} — {role}.",
    staff_deactivated="{name} отключён(а): команды сотрудника больше не работают.",
    staff_reactivated="{name} снова в команде: {role}.",
    staff_settings_owner="Этот владелец указан в OWNER_IDS: он меняется только в настройках.",
    staff_yourself="Себя изменить или отключить нельзя.",
    invite_accepted_role="Вы добавлены: {role}{store}. Нажмите /start — откроется ваше меню.",
    redeem_ask="🔐 Списать <b>{points}</b> за покупку на {amount}{store}?\nПодтвердите кнопкой или назовите кассиру код <b>{code}</b>. Запрос действует {minutes} мин. Без вашего согласия баллы не спишутся.",
    redeem_yes="✅ Списать",
    redeem_no="✖️ Не списывать",
    redeem_confirmed="Баллы списаны 👌",
    redeem_declined="Хорошо, баллы не списаны.",
    redeem_gone="Этот запрос уже не действует.",
    redeem_not_enough="Сейчас на балансе меньше баллов, чем просят списать: ничего не списано.",
    redeem_answer_yes="✅ Клиент подтвердил списание: списано {redeemed}, начислено {accrued}. Баланс клиента: <b>{balance}</b>.",
    redeem_answer_no="✖️ Клиент отказался от списания. Проведите покупку без списания или отмените её кнопками выше.",
    sale_waiting="⏳ Ждём согласия клиента: ему пришла кнопка «Списать», а если телефона под рукой нет — код, который он может назвать. Введите код сюда. Запрос действует {minutes} мин.",
    sale_without_points="Провести без списания",
    sale_wrong_code="Код не подходит. Проверьте цифры или дождитесь, пока клиент нажмёт кнопку.",
    sale_unreachable="Клиент не подключён к боту — подтвердить списание некому. Баллы не списываются; провести покупку без списания?",
    sale_lapsed="Запрос на списание истёк или отклонён: баллы не списаны. Провести без списания?",
    return_ask="Возврат. Введите номер чека, телефон или номер карты клиента.",
    return_not_found="Такой покупки не нашёл. Проверьте номер чека, телефон или карту.",
    return_receipt=", чек №{receipt}",
    return_pick="Какую покупку возвращаем?",
    return_line="{date} · {amount}{receipt}",
    return_ask_amount="Покупка на {amount} от {date}{receipt}: вернуть можно до {left}. Весь остаток — кнопкой, часть — напишите сумму.",
    return_all="Вернуть всё: {left}",
    return_bad_amount="Сумма возврата — от 0,01 до {left}. Напишите число, например <code>500</code>.",
    return_confirm="Вернуть {amount} по покупке на {total}? Баллы клиента пересчитаются, клиенту придёт уведомление.",
    return_go="↩️ Оформить возврат",
    return_done="↩️ Возврат оформлен: {amount}. Снято {reversed}, возвращено {returned}. Баланс клиента: <b>{balance}</b>.",
    return_shortfall="Не удалось снять {points}: клиент их уже потратил.",
    return_duplicate="Этот возврат уже оформлен.",
    return_nothing_left="Эта покупка уже возвращена полностью.",
    return_cancelled="Возврат отменён.",
    find_ask="Кого ищем? Телефон, номер карты или имя.",
    find_none="Никого не нашёл. Проверьте телефон, номер карты или имя.",
    find_pick="Нашлось несколько — выберите:",
    find_card="<b>{name}</b>{phone}\nКарта: {card}\nБаланс: <b>{balance}</b>, уровень «{tier}»\nСогласие на обработку данных: {consent}\nРеклама: {ads}\n\nПоследние покупки:\n{purchases}",
    find_consent_given="дано {date}",
    find_consent_missing="нет",
    find_ads_yes="согласен(на)",
    find_ads_no="нет",
    find_no_purchases="покупок ещё не было",
    find_purchase_line="{date} — {amount}: +{accrued}, −{redeemed}{refunded}",
    find_refunded=", возврат {amount}",
    find_sale="🧾 Продажа",
    find_return="↩️ Возврат",
    my_figures="<b>Ваши показатели</b>\nQR-коды «{name}»: привели {brought}, из них сделали первую покупку {bought}.\nПродажи за эту неделю: {week_sales} на {week_amount}.\nЗа этот месяц: {month_sales} на {month_amount}.",
    my_no_codes="<b>Ваши показатели</b>\nQR-кодов на ваше имя пока нет: владелец делает их командой /qr.\nПродажи за эту неделю: {week_sales} на {week_amount}.\nЗа этот месяц: {month_sales} на {month_amount}.",
    qr_employee_hint="Сотрудник «{employee}» увидит командой /my, скольких клиентов привёл этот код и сколько из них купили (имя должно совпадать с его именем в списке сотрудников).",
    program_title="<b>Программа лояльности</b>\nИзменения действуют со следующей операции; прошлые не меняются.",
    program_line="{label}: <b>{value}</b>",
    program_labels=(
        ("welcome_bonus", "Приветственный бонус"),
        ("profile_bonus", "Бонус за заполненный профиль"),
        ("referral_bonus", "Бонус за друга"),
        ("birthday_bonus", "Бонус на день рождения"),
        ("tiers", "Уровни (название:от ₽:%)"),
        ("redeem_cap_percent", "Оплата баллами, до % чека"),
        ("purchase_points_days", "Срок баллов за покупки, дней (0 — бессрочно)"),
        ("bonus_points_days", "Срок бонусных баллов, дней (0 — бессрочно)"),
        ("receipt_qr_hours", "Срок QR-кода чека, часов"),
    ),
    program_button="✏️ {label}",
    program_ask="Пришлите новое значение: «{label}».\nСейчас: <code>{value}</code>\n{hint}\n\n/cancel — отмена.",
    program_hint_integer="Целое число от {low} до {high}.",
    program_hint_percent="Процент от 0 до 100, например 30 или 12.5.",
    program_hint_tiers="Уровни через запятую: название:от_рублей:процент, первый от 0. Пример: <code>Базовый:0:5, Серебро:10000:7</code>",
    program_bad_value="Не подходит. {hint}",
    program_confirm="Изменить «{label}»?\n<code>{old}</code> → <code>{new}</code>",
    program_yes="✅ Изменить",
    program_no="✖️ Отмена",
    program_changed="Готово: «{label}» теперь <code>{new}</code>. Действует со следующей операции.",
    program_same="Это и есть текущее значение: ничего не изменилось.",
    program_stale="Значение успели изменить. Откройте /program ещё раз.",
    program_cancelled="Отменено, ничего не изменилось.",
    audit_title="<b>Журнал действий</b>: стр. {page} из {pages}, записей {total}",
    audit_empty="Журнал пока пуст.",
    audit_entry="{at} · {channel} · {actor}\n<b>{action}</b>{subject}{details}",
    audit_channels=(("messenger", "мессенджер"), ("pos", "касса"), ("shell", "консоль")),
    audit_newer="◀️ Новее",
    audit_older="Старше ▶️",
    schedule_edit="✏️ {name}",
    schedule_job_card="<b>{name}</b>\nТекст (ru): {ru}\nТекст (en): {en}\nПодстановки: {placeholders}",
    schedule_default_text="по умолчанию",
    schedule_no_placeholders="нет",
    schedule_text_button="✏️ Текст ({language})",
    schedule_reset_button="↩️ Текст по умолчанию ({language})",
    schedule_bonus_button="🎁 Бонус: {bonus}",
    schedule_ask_text="Пришлите текст «{name}» ({language}). Подстановки: {placeholders}.\n\n/cancel — отмена.",
    schedule_text_saved="Сохранено: следующий запуск пришлёт этот текст.",
    schedule_text_reset="Вернули текст по умолчанию.",
    schedule_bad_placeholder="В этом тексте можно использовать только: {allowed}. Фигурные скобки — только для них.",
    schedule_text_too_long="Не длиннее {limit} символов.",
    profile_edit_buttons=(
        ("name", "✏️ Имя"),
        ("birthday", "✏️ День рождения"),
        ("gender", "✏️ Пол"),
        ("city", "✏️ Город"),
        ("interests", "✏️ Интересы"),
    ),
    profile_clear="🗑 Очистить ответ",
    profile_saved="Сохранено ✅",
    profile_bonus_paid="Профиль заполнен: +{bonus}! 🎉",
    profile_edit_hint="\n\n/cancel — оставить как есть.",
)

RU_SHELL = ShellTexts(
    database_ready="Схема базы данных актуальна: {database}",
    wrote="  записан файл {path}",
    source_on="вкл ",
    source_off="выкл",
    no_source="Источника №{id} нет",
    not_an_amount="Это не сумма в рублях: {text!r} (например, 1250 или 1250.50)",
    tokens_revoked="Отозвано токенов магазина {store!r}: {count}",
    token_keep_secret="  Храните его в секрете: он записывает покупки этого магазина. Показан один раз.",
    no_member="Клиента с картой или телефоном {customer!r} нет",
    only_points="У клиента только {points}",
    adjusted="{name} {phone}: {points:+d}, баланс {balance}",
    owner_added="Владелец добавлен: {id}. Пусть нажмёт /start в боте.",
    owner_removed="Владелец {id} отключён.",
    owner_unknown="Владельца {id} в базе нет",
    owner_in_settings="{id} указан в OWNER_IDS: уберите его из настроек",
    owner_line="{id}  (в базе)",
    owner_line_settings="{id}  (OWNER_IDS)",
    owners_none="Владельцев нет. Добавьте: clientbase owner add ID (id покажет /id в боте)",
)
