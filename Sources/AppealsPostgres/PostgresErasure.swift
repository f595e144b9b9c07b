import Appeals
import Foundation
import PostgresNIO

/// `supporter erase` on PostgreSQL: the SQLite store's erasure (``ReplyScrubber``, ``Supporter/erased(at:)``)
/// in one PostgreSQL transaction.
extension PostgresStore {
    /// Removes a supporter's personal data (name, email, city, note, their letters' subjects and bodies, their
    /// address or name wherever a server's reply or a bounce quoted it, their pending requests from the campaign
    /// page) while keeping every count: the supporter row, their letters' statuses and the delivery attempts
    /// remain. Unsent letters are cancelled, those a running sender holds included: it records them as it
    /// would a cancelled letter, and sends nothing more in their name.
    /// - Throws: ``AppealsError/notFound(_:)`` when the campaign has no supporter with that email.
    public func eraseSupporter(email: String, campaign slug: String, now: Date = Date()) async throws(AppealsError) -> ErasureReport {
        try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            let campaignId = campaign.id!
            guard let supporter = try await PostgresDeliveryStore.records(Supporter.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("supporter")) FROM supporter
                WHERE campaign_id = \(campaignId) AND email_key = \(EmailAddress.key(email)) FOR UPDATE
                """, on: connection, logger: logger).first
            else { throw AppealsError.notFound("\(email) is not a supporter of \(slug) (or was erased already)") }
            let id = supporter.id!
            var report = ErasureReport()
            report.lettersCancelled = try await connection.rows("""
                UPDATE letter SET status = 'cancelled', claimed_by = NULL, claimed_at = NULL, updated_at = \(now)
                WHERE supporter_id = \(id) AND status IN ('queued', 'deferred', 'sending') RETURNING id
                """, logger: logger).count
            report.lettersErased = try await connection.rows("""
                UPDATE letter_text SET subject = '', body = '' WHERE letter_id IN (SELECT id FROM letter WHERE supporter_id = \(id)) RETURNING letter_id
                """, logger: logger).count
            report.messageIds = try await connection.rows("SELECT message_id FROM letter WHERE supporter_id = \(id) ORDER BY id", logger: logger).decode(String.self)
            let scrubber = ReplyScrubber(email: supporter.email ?? email, name: supporter.name)
            let local = scrubber.localPart
            // Replies to their letters, a target's disabling reason, and replies about other letters that quote them.
            let places: [(select: PostgresQuery, table: String, column: String)] = [
                ("SELECT id, last_reply FROM letter WHERE supporter_id = \(id) AND last_reply IS NOT NULL", "letter", "last_reply"),
                ("""
                 SELECT a.id, a.reply FROM delivery_attempt a JOIN letter l ON l.id = a.letter_id
                 WHERE l.supporter_id = \(id) AND a.reply IS NOT NULL
                 """, "delivery_attempt", "reply"),
                ("SELECT id, disabled_reason FROM target WHERE campaign_id = \(campaignId) AND disabled_reason IS NOT NULL", "target", "disabled_reason"),
                ("SELECT id, last_reply FROM letter WHERE campaign_id = \(campaignId) AND strpos(lower(last_reply), \(local)) > 0", "letter", "last_reply"),
                ("""
                 SELECT a.id, a.reply FROM delivery_attempt a JOIN letter l ON l.id = a.letter_id
                 WHERE l.campaign_id = \(campaignId) AND strpos(lower(a.reply), \(local)) > 0
                 """, "delivery_attempt", "reply"),
            ]
            for place in places {
                for (rowId, text) in try await connection.rows(place.select, logger: logger).decode((Int64, String).self) {
                    let clean = scrubber.scrubbed(text)
                    guard clean != text else { continue }
                    try await connection.query("UPDATE \(unescaped: place.table) SET \(unescaped: place.column) = \(clean) WHERE id = \(rowId)",
                                               logger: logger)
                    report.repliesScrubbed += 1
                }
            }
            report.repliesScrubbed += try await eraseFromBounces(supporter, campaignId: campaignId, scrubber: scrubber, on: connection)
            // The requests from the campaign page held the same data.
            try await connection.query("DELETE FROM submission WHERE campaign_id = \(campaignId) AND email_key = \(supporter.emailKey)", logger: logger)
            let erased = supporter.erased(at: now)
            try await connection.query("""
                UPDATE supporter SET name = \(erased.name), email = NULL, email_key = NULL, city = NULL, personal_note = NULL, erased_at = \(now)
                WHERE id = \(id)
                """, logger: logger)
            return report
        }
    }

    /// Bounces name a supporter when their copy bounced or an unmatched message quoted them: their reports go,
    /// their address and name leave the texts stored about the others, and a kept message that mentions their
    /// address anywhere (encoded or not) is removed.
    /// - Returns: how many stored texts changed.
    private func eraseFromBounces(_ supporter: Supporter, campaignId: Int64, scrubber: ReplyScrubber,
                                  on connection: PostgresConnection) async throws -> Int {
        guard let key = supporter.emailKey else { return 0 }
        var changed = try await connection.rows("""
            DELETE FROM bounce WHERE lower(recipient) = \(key)
              AND (letter_id IS NULL OR letter_id IN (SELECT id FROM letter WHERE supporter_id = \(supporter.id!))) RETURNING id
            """, logger: logger).count
        // The messages of this campaign, and those matched to none.
        let rows = try await connection.rows("""
            SELECT id, recipient, diagnostic, effect FROM bounce
            WHERE message_id IN (SELECT id FROM bounce_message WHERE campaign_id = \(campaignId) OR campaign_id IS NULL)
            """, logger: logger)
        for row in rows {
            let (id, recipient, diagnostic, effect) = try row.decode((Int64, String?, String?, String?).self)
            let texts = [recipient, diagnostic, effect]
            let clean = texts.map { $0.map(scrubber.scrubbed) }
            guard clean != texts else { continue }
            try await connection.query("UPDATE bounce SET recipient = \(clean[0]), diagnostic = \(clean[1]), effect = \(clean[2]) WHERE id = \(id)",
                                       logger: logger)
            changed += 1
        }
        let messages = try await connection.rows("""
            SELECT id, sender, subject, outcome, problem, raw FROM bounce_message WHERE campaign_id = \(campaignId) OR campaign_id IS NULL
            """, logger: logger)
        for row in messages {
            let (id, sender, subject, outcome, problem, raw) = try row.decode((Int64, String?, String?, String?, String?, Data?).self)
            let texts = [sender, subject, outcome, problem]
            let (clean, kept) = scrubber.scrubbedMessage(texts: texts, raw: raw)
            guard clean != texts || kept != raw else { continue }
            try await connection.query("""
                UPDATE bounce_message SET sender = \(clean[0]), subject = \(clean[1]), outcome = \(clean[2]), problem = \(clean[3]), raw = \(kept)
                WHERE id = \(id)
                """, logger: logger)
            changed += 1
        }
        return changed
    }
}
