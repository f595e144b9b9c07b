import Appeals
import Foundation
import GRDB
import PostgresNIO

/// The web server's store on PostgreSQL. Everything `serve` keeps lives in the database, so any number of
/// `serve` processes sharing it answer as one: pending confirmations and their links, the per-address limit on
/// confirmation emails (counted under a lock per address, so two servers cannot both let one more through),
/// confirmations (a link confirmed at two servers at once creates one supporter), and the outbox, whose emails
/// a server takes for itself before sending them.
extension PostgresStore: WebStore {
    public func composer(for slug: String, cache: ComposerCache) async throws(AppealsError) -> LetterComposer {
        try await composer(for: slug, timeZone: .current, cache: cache)
    }

    public func activity(campaign slug: String, now: Date, hours: Int) async throws(AppealsError) -> CampaignActivity {
        try await transaction { connection in
            let id = try await Self.campaign(slug, on: connection, logger: logger, location: location).id!
            let first = CampaignActivity.firstHour(now: now, hours: hours)
            var counts: [Date: Int] = [:]
            for (hour, count) in try await connection.rows("""
                SELECT date_trunc('hour', sent_at), count(*)::bigint FROM letter
                WHERE campaign_id = \(id) AND status = 'sent' AND sent_at >= \(first) GROUP BY 1
                """, logger: logger).decode((Date, Int64).self) {
                counts[hour] = Int(count)
            }
            var failures: [CampaignActivity.Failure] = []
            for (at, name, email, outcome, code, reply) in try await connection.rows("""
                SELECT a.attempted_at, t.name, t.email, a.outcome, a.code, coalesce(a.reply, '')
                FROM delivery_attempt a JOIN letter l ON l.id = a.letter_id JOIN target t ON t.id = l.target_id
                WHERE l.campaign_id = \(id) AND a.outcome <> 'sent' ORDER BY a.id DESC LIMIT 20
                """, logger: logger).decode((Date, String, String, String, Int?, String).self) {
                failures.append(CampaignActivity.Failure(at: at, targetName: name, targetEmail: email, outcome: outcome, code: code, reply: reply))
            }
            let (pending, inFlight) = try await connection.rows("""
                SELECT (SELECT count(*) FROM submission WHERE campaign_id = \(id) AND confirmed_at IS NULL AND expires_at > \(now))::bigint,
                       (SELECT count(*) FROM letter WHERE campaign_id = \(id)
                          AND (status = 'sending' OR (status IN ('queued', 'deferred') AND due_at <= \(now))))::bigint
                """, logger: logger).first!.decode((Int64, Int64).self)
            return CampaignActivity(sentPerHour: CampaignActivity.series(counts, from: first, hours: hours), recentFailures: failures,
                                    pendingConfirmations: Int(pending), inFlight: Int(inFlight))
        }
    }

    public func exportText(campaign slug: String, spreadsheetSafe: Bool) async throws(AppealsError) -> String {
        var text = ""
        try await exportLetters(campaign: slug, spreadsheetSafe: spreadsheetSafe) { text += $0 }
        return text
    }

    /// Takes the turn of one address in one campaign, until the transaction ends: its submissions are counted
    /// and its supporter created by one server at a time.
    private func lockAddress(_ emailKey: String, campaign: Int64, on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(4242004, hashtext(\(String(campaign) + "|" + emailKey)))", logger: logger)
    }

    /// The campaign's status and deadline, read under a share lock: a change of status waits for the write.
    private func campaignState(_ id: Int64, on connection: PostgresConnection) async throws -> (status: CampaignStatus?, deadline: String?) {
        let rows = try await connection.rows("SELECT status, deadline::text FROM campaign WHERE id = \(id) FOR SHARE", logger: logger)
        guard let (status, deadline) = try rows.first?.decode((String, String?).self) else { return (nil, nil) }
        return (CampaignStatus(rawValue: status), deadline)
    }

    public func storeSubmission(_ submission: Submission, email: OutboxMessage, perEmailPerHour: Int, now: Date) async throws(AppealsError) -> Bool {
        try await transaction { connection in
            let state = try await campaignState(submission.campaignId, on: connection)
            guard Campaign.takesSubmissions(status: state.status, deadline: state.deadline, at: now) else {
                throw AppealsError.conflict("the campaign takes no letters now")
            }
            try await lockAddress(submission.emailKey, campaign: submission.campaignId, on: connection)
            let recent = try await connection.rows("""
                SELECT count(*)::bigint FROM submission
                WHERE campaign_id = \(submission.campaignId) AND email_key = \(submission.emailKey) AND created_at > \(now.addingTimeInterval(-3600))
                """, logger: logger).first?.decode(Int64.self) ?? 0
            guard recent < perEmailPerHour else { return false }
            _ = try await Self.insert(submission, into: "submission", on: connection, logger: logger)
            try await connection.query("""
                INSERT INTO outbox (recipient, envelope_from, message, created_at, due_at, attempts)
                VALUES (\(email.recipient), \(email.envelopeFrom), \(email.message), \(now), \(now), 0)
                """, logger: logger)
            return true
        }
    }

    private func submission(tokenHash: Data, on connection: PostgresConnection, lock: Bool = false) async throws -> Submission? {
        try await PostgresDeliveryStore.records(Submission.self, """
            SELECT \(unescaped: PostgresDeliveryStore.columns("submission")) FROM submission WHERE token_hash = \(tokenHash)
            \(unescaped: lock ? "FOR UPDATE" : "")
            """, on: connection, logger: logger).first
    }

    private func campaign(id: Int64, on connection: PostgresConnection) async throws -> Campaign? {
        try await PostgresDeliveryStore.records(Campaign.self, """
            SELECT \(unescaped: PostgresDeliveryStore.columns("campaign")) FROM campaign WHERE id = \(id)
            """, on: connection, logger: logger).first
    }

    public func submission(tokenHash: Data) async throws(AppealsError) -> (Submission, Campaign)? {
        try await transaction { connection in
            guard let submission = try await submission(tokenHash: tokenHash, on: connection),
                  let campaign = try await campaign(id: submission.campaignId, on: connection) else { return nil }
            return (submission, campaign)
        }
    }

    public func confirmationPlan(tokenHash: Data, now: Date, composers: ComposerCache) async throws(AppealsError) -> (Submission, Campaign, ConfirmationPlan)? {
        guard let (found, campaign) = try await submission(tokenHash: tokenHash) else { return nil }
        if let answer = ConfirmationPlan.answer(for: found, campaign: campaign, now: now) { return (found, campaign, .answer(answer)) }
        return (found, campaign, .confirm(try await composer(for: campaign.slug, cache: composers)))
    }

    public func confirmSubmission(tokenHash: Data, composer: LetterComposer, messageIDs: MessageIDGenerator, now: Date) async throws(AppealsError) -> Confirmation {
        let campaign = composer.campaign
        return try await transaction { connection in
            let state = try await campaignState(campaign.id!, on: connection)
            guard Campaign.takesConfirmations(status: state.status, deadline: state.deadline, at: now) else { return .campaignClosed }
            // The link's row is locked: a second server confirming it at once waits, then finds it confirmed.
            guard let submission = try await submission(tokenHash: tokenHash, on: connection, lock: true) else { return .unknown }
            if submission.confirmedAt != nil { return .alreadyConfirmed }
            try await lockAddress(submission.emailKey, campaign: campaign.id!, on: connection)
            let existing = { () async throws -> Supporter? in
                try await PostgresDeliveryStore.records(Supporter.self, """
                    SELECT \(unescaped: PostgresDeliveryStore.columns("supporter")) FROM supporter
                    WHERE campaign_id = \(campaign.id!) AND email_key = \(submission.emailKey)
                    """, on: connection, logger: logger).first
            }
            var created = false
            var supporter = try await existing()
            if supporter == nil {
                var new = submission.supporter(at: now)
                // An import may be adding the same address at this moment: then its row wins, and is read again.
                new.id = try await Self.insert(new, into: "supporter", onConflictDoNothing: true, on: connection, logger: logger)
                if new.id == nil {
                    supporter = try await existing()
                } else {
                    supporter = new
                    created = true
                    let targets = try await PostgresDeliveryStore.records(Target.self, """
                        SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target WHERE campaign_id = \(campaign.id!)
                        """, on: connection, logger: logger)
                    _ = try await insertLetters(composer.letters(for: new, targets: targets, messageIDs: messageIDs, now: now), on: connection)
                }
            }
            guard let supporter else { throw AppealsError.storage("supporter \(submission.emailKey) vanished during its confirmation") }
            let confirmed = submission.confirmed(supporterId: supporter.id!, at: now)
            try await connection.query("""
                UPDATE submission SET confirmed_at = \(confirmed.confirmedAt), supporter_id = \(confirmed.supporterId), name = \(confirmed.name),
                    email = \(confirmed.email), city = \(confirmed.city), personal_note = \(confirmed.personalNote)
                WHERE id = \(submission.id!)
                """, logger: logger)
            return .confirmed(supporterId: supporter.id!, created: created)
        }
    }

    public func withdrawSubmission(tokenHash: Data) async throws(AppealsError) -> Bool {
        try await transaction { connection in
            try await !connection.rows("DELETE FROM submission WHERE token_hash = \(tokenHash) AND confirmed_at IS NULL RETURNING id", logger: logger).isEmpty
        }
    }

    public func supporterLetters(tokenHash: Data) async throws(AppealsError) -> SupporterLetters? {
        try await transaction { connection in
            guard let submission = try await submission(tokenHash: tokenHash, on: connection), submission.confirmedAt != nil,
                  let campaign = try await campaign(id: submission.campaignId, on: connection) else { return nil }
            var found: Supporter?
            if let id = submission.supporterId {
                found = try await PostgresDeliveryStore.records(Supporter.self, """
                    SELECT \(unescaped: PostgresDeliveryStore.columns("supporter")) FROM supporter WHERE id = \(id)
                    """, on: connection, logger: logger).first
            }
            guard let supporter = found else {
                return SupporterLetters(campaign: campaign, supporter: nil, pageLanguage: submission.pageLanguage, letters: [])
            }
            let targets = try await PostgresDeliveryStore.records(Target.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target WHERE campaign_id = \(campaign.id!)
                """, on: connection, logger: logger).keyed(by: \.id!)
            var letters: [SupporterLetters.Item] = []
            for (status, sentAt, subject, body, targetId) in try await connection.rows("""
                SELECT l.status, l.sent_at, x.subject, x.body, l.target_id
                FROM letter l LEFT JOIN letter_text x ON x.letter_id = l.id WHERE l.supporter_id = \(supporter.id!) ORDER BY l.id
                """, logger: logger).decode((String, Date?, String?, String?, Int64).self) {
                guard let target = targets[targetId], let status = LetterStatus(rawValue: status) else { continue }
                letters.append(SupporterLetters.Item(target: target, status: status, subject: subject ?? "", body: body ?? "", sentAt: sentAt))
            }
            return SupporterLetters(campaign: campaign, supporter: supporter.erasedAt == nil ? supporter : nil,
                                    pageLanguage: submission.pageLanguage, letters: letters)
        }
    }

    public func purgeExpiredSubmissions(now: Date) async throws(AppealsError) -> Int {
        try await transaction { connection in
            try await connection.rows("""
                DELETE FROM submission WHERE confirmed_at IS NULL AND expires_at < \(now.addingTimeInterval(-7 * 86_400)) RETURNING id
                """, logger: logger).count
        }
    }

    public func webKey() async throws(AppealsError) -> Data {
        let key = try await transaction { connection in
            try await connection.rows("SELECT value FROM secret_key WHERE name = 'web'", logger: logger).first?.decode(Data.self)
        }
        guard let key else { throw .storage("\(location) has no web key: run appeal-cli init on it") }
        return key
    }

    public func takeDueOutbox(now: Date, limit: Int) async throws(AppealsError) -> [OutboxMessage] {
        try await transaction { connection in
            // Emails another server is taking are passed over, not waited for.
            try await connection.rows("""
                UPDATE outbox SET due_at = \(now.addingTimeInterval(outboxHoldSeconds))
                WHERE id IN (SELECT id FROM outbox WHERE due_at <= \(now) ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING id, recipient, envelope_from, message, attempts
                """, logger: logger).map { row in
                let (id, recipient, from, message, attempts) = try row.decode((Int64, String, String, Data, Int).self)
                return OutboxMessage(id: id, recipient: recipient, envelopeFrom: from, message: message, attempts: attempts)
            }.sorted { $0.id! < $1.id! }
        }
    }

    public func removeFromOutbox(_ ids: [Int64]) async throws(AppealsError) {
        guard !ids.isEmpty else { return }
        _ = try await transaction { connection in try await connection.query("DELETE FROM outbox WHERE id = ANY(\(ids))", logger: logger) }
    }

    public func deferOutbox(_ id: Int64, until due: Date) async throws(AppealsError) {
        _ = try await transaction { connection in
            try await connection.query("UPDATE outbox SET attempts = attempts + 1, due_at = \(due) WHERE id = \(id)", logger: logger)
        }
    }
}
