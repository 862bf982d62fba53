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
    # The owner's broadcasts from the messenger (/broadcast, /campaigns).
    broadcast_pick_segment="📣 <b>Рассылка</b>\n\nКому отправить? Выберите сохранённый сегмент, всех или соберите фильтры кнопками.",
    broadcast_everyone="👥 Все ({recipients})",
    broadcast_saved_segment="{name} ({recipients})",
    broadcast_build="🎛 Собрать фильтры",
    broadcast_nobody="В этом сегменте нет никого, кому можно отправить рекламу (нужно согласие на рассылки). Выберите другой.",
    segment_builder="🎛 <b>Сегмент</b>: {description}\n\nПолучателей: <b>{recipients}</b> (в сегменте {members}).\nНажимайте на фильтры, чтобы изменить их; их можно сочетать.",
    segment_everyone="все клиенты",
    segment_any="любой",
    segment_field_lifecycle="Этап",
    segment_field_gender="Пол",
    segment_field_birthday="День рождения",
    segment_field_tier="Уровень",
    segment_field_city="Город",
    segment_choose="Выберите: {field}",
    segment_lifecycles=(
        ("potential", "без покупок"),
        ("one_purchase", "одна покупка"),
        ("active", "активные"),
        ("quiet", "уснувшие"),
        ("vip", "VIP"),
        ("mailing_only", "только рассылка"),
    ),
    segment_months=(
        "январь",
        "февраль",
        "март",
        "апрель",
        "май",
        "июнь",
        "июль",
        "август",
        "сентябрь",
        "октябрь",
        "ноябрь",
        "декабрь",
    ),
    segment_reset="↺ Сбросить",
    segment_next="Далее ➡️",
    segment_save="💾 Сохранить сегмент",
    segment_ask_name="Как назвать сегмент? Напишите название (до 100 символов).",
    segment_name_bad="Название не подходит: от 1 до 100 символов, и не «all». Напишите другое.",
    segment_name_taken="Сегмент «{name}» уже есть. Напишите другое название.",
    segment_saved_as="💾 Сегмент «{name}» сохранён.",
    segment_bad="Такой фильтр не подходит ({field}).",
    broadcast_ask_text="✍️ Пришлите текст рассылки. Форматирование (жирный, курсив, ссылки) сохранится. Можно прислать фото с подписью.",
    broadcast_photo_no_text="🖼 Фото есть. Теперь пришлите текст.",
    broadcast_text_expected="Здесь нужен текст или фото с подписью.",
    broadcast_bad_text="Текст не подходит: он пустой, длиннее 4096 символов (с фото — 1024) или с незакрытым оформлением. Пришлите другой.",
    broadcast_ask_button="🔗 Добавить кнопку со ссылкой? Пришлите ссылку (https://…) или нажмите «Без кнопки».",
    broadcast_no_button="Без кнопки",
    broadcast_bad_button="Это не ссылка: нужна ссылка вида https://example.com (до 500 символов). Пришлите другую или нажмите «Без кнопки».",
    broadcast_preview_title="👀 Так сообщение увидят клиенты:",
    broadcast_preview_unsubscribe="Это предпросмотр: у клиента эта кнопка отключит рассылки.",
    broadcast_confirm="Получателей: <b>{recipients}</b> (в сегменте {members}).\nКонтрольная группа: {holdout}% получателей не получат сообщение, чтобы сравнить покупки.\n\nОтправить?",
    broadcast_send_now="🚀 Отправить сейчас",
    broadcast_schedule="🕒 Запланировать",
    broadcast_ask_time="🕒 Когда отправить? Напишите дату и время ({zone}): «2026-12-31 10:00» или «31.12 10:00».",
    broadcast_bad_time="Не получилось прочитать время «{text}». Напишите так: «2026-12-31 10:00» или «31.12 10:00».",
    broadcast_past_time="Это время уже прошло. Напишите время в будущем.",
    broadcast_scheduled="🕒 Рассылка №{id} запланирована на {at} ({zone}). Сейчас получателей: {recipients}.\nСписок рассылок — /campaigns.",
    broadcast_refused="Рассылку не получилось создать: {problem}",
    campaign_progress="📣 <b>Рассылка №{id}</b> «{name}» — {state}\n\nОтправлено: {sent}\nНе доставлено: {failed} (заблокировали бота: {blocked})\nПропущено: {skipped}\nОсталось: {left}\nДо конца: {eta}",
    campaign_eta_unknown="—",
    campaign_states=(
        ("draft", "черновик"),
        ("scheduled", "запланирована"),
        ("running", "идёт"),
        ("paused", "на паузе"),
        ("cancelled", "остановлена"),
        ("done", "завершена"),
    ),
    campaign_refresh="🔄 Обновить",
    campaign_pause="⏸ Пауза",
    campaign_resume="▶️ Продолжить",
    campaign_stop="⛔ Остановить",
    campaign_results_button="📊 Итоги",
    campaign_wrong_state="Уже нельзя: рассылка {state}.",
    campaign_not_found="Такой рассылки нет.",
    campaigns_title="📣 <b>Рассылки</b> — последние {count}. Нажмите на рассылку, чтобы увидеть итоги.",
    campaigns_empty="Рассылок пока не было. Создать — /broadcast.",
    campaigns_back="⬅️ К списку",
    campaign_card="📣 <b>Рассылка №{id}</b> «{name}» — {state}\nСегмент: {segment}\nСоздана: {created}{start}\nОтправлено {sent} из {total}, не доставлено {failed}, осталось {left}",
    campaign_start_line="\nСтарт: {at}",
    campaign_results_text="📊 <b>Итоги</b> (покупки за {days} дн. после старта)\nДоставлено: {delivered}, не доставлено: {failed}, заблокировали бота: {blocked}, отписались: {unsubscribed}\n\nПолучатели ({heads}): купили {buyers}, покупок {purchases}, выручка {revenue} ({per_head} на человека)\nКонтрольная группа ({h_heads}): купили {h_buyers}, покупок {h_purchases}, выручка {h_revenue} ({h_per_head} на человека)\n\nДополнительная выручка: <b>{lift}</b>\nПогашено промокодов: {promos}",
    campaign_no_holdout="— (нет контрольной группы)",
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
    segment_unknown="Сегмента {name!r} нет; сохранённые: {names} (или all — вся база)",
    segment_bad="Сегмент не задан: {problem}",
    segment_saved="Сегмент {name!r} сохранён: {members} в сегменте, получателей рассылки {recipients}",
    segment_taken="Имя {name!r} занято (или недопустимо: пустое, all, длиннее 100 символов)",
    segment_deleted="Сегмент {name!r} удалён",
    segments_none="Сохранённых сегментов нет",
    segment_line="{name}\tв сегменте {members}\tполучателей {recipients}\t{definition}",
    broadcast_count="Получателей: {recipients} (в сегменте {members}; контрольная группа ≈{holdout} % не получит)",
    broadcast_ask="Отправить? [y/N] ",
    broadcast_aborted="Ничего не отправлено",
    broadcast_queued="Кампания №{id}: в очереди {queued}, в контрольной группе {held}. Отправляет работающий бот.",
    broadcast_scheduled="Кампания №{id} запланирована на {at}",
    broadcast_refused="Не отправлено: {problem}",
    not_a_time="Это не время: {text!r} (пишите ГГГГ-ММ-ДД ЧЧ:ММ)",
    no_file="Файла нет: {path}",
    campaigns_none="Кампаний нет",
    campaign_line="№{id} [{state}] {name}\n  сегмент: {segment}; создана {created}, старт {start}\n  отправлено {sent}, ошибок {failed}, заблокировали {blocked}, пропущено {skipped}, осталось {left} (≈{eta})",
    campaign_results="  за {days} дн.: получатели {heads} чел., купили {buyers}, выручка {revenue}; контрольная группа {h_heads} чел., купили {h_buyers}, выручка {h_revenue}; прирост выручки {lift}; отписались {unsubscribed}; промокодов {promos}",
    campaign_changed="Кампания №{id}: {state}",
    campaign_wrong_state="Кампания №{id} в состоянии {state}: так нельзя",
    campaign_missing="Кампании №{id} нет",
)
