"""Drawing: QR codes, posters, receipt slips, cards. Pure rendering: no bot, no database."""
