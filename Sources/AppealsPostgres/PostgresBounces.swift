import Appeals
import Foundation
import PostgresNIO

/// Bounces on PostgreSQL: the ingest's rules (``BounceLedgerIngest``, the matcher) over a ledger that answers
/// from one PostgreSQL transaction; `bounces list` and `bounces show`.
extension PostgresDeliveryStore: BounceStore {
    public func ingestBounce(_ message: InboundMessage, policy: BouncePolicy, now: Date) throws(AppealsError) -> BounceIngestResult {
        let store = self.store
        // A message fed again (a rerun over an mbox, a mail system redelivering) is not read again.
        let earlier = try store.blocking { () async throws(AppealsError) in
            try await store.transaction { connection in try await PostgresBounceLedger.earlierIngest(of: message.sha256, on: connection, store: store) }
        }
        if let earlier { return earlier }
        let reading = BounceLedgerIngest.Reading(message)
        return try store.blocking { () async throws(AppealsError) in
            try await store.transaction { connection in
                // The same message ingested twice at once (two mail deliveries, two runs): one after the other.
                try await connection.query("SELECT pg_advisory_xact_lock(4242005, hashtext(encode(\(message.sha256), 'hex')))", logger: store.logger)
                return try await ThreadExecutor.run(name: "appeal-bounce") { () throws(AppealsError) in
                    do {
                        return try BounceLedgerIngest.run(message, reading: reading, policy: policy, now: now,
                                                          ledger: PostgresBounceLedger(connection: connection, store: store))
                    } catch {
                        throw PostgresStore.appealsError(error, store.location)
                    }
                }
            }
        }
    }
}

/// The answers and records of one ingest, from its PostgreSQL transaction. Its calls block the ingest's own
/// thread while the transaction's connection runs them.
struct PostgresBounceLedger: BounceLedger {
    let connection: PostgresConnection
    let store: PostgresStore

    private func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) throws -> T {
        let (connection, store) = (connection, store)
        return try store.blocking { () async throws(AppealsError) in
            do {
                return try await body(connection, store.logger)
            } catch {
                throw PostgresStore.appealsError(error, store.location)
            }
        }
    }

    static func earlierIngest(of sha256: Data, on connection: PostgresConnection, store: PostgresStore) async throws -> BounceIngestResult? {
        try await connection.rows("SELECT class, outcome, problem FROM bounce_message WHERE sha256 = \(sha256)", logger: store.logger).first.map { row in
                let (bounceClass, outcome, problem) = try row.decode((String, String, String?).self)
                return BounceLedgerIngest.earlier(bounceClass: bounceClass, outcome: outcome, problem: problem)
            }
    }

    func earlierIngest(of sha256: Data) throws -> BounceIngestResult? {
        let store = self.store
        return try run { connection, _ in try await Self.earlierIngest(of: sha256, on: connection, store: store) }
    }

    func campaign(ofTarget id: Int64) throws -> Int64? {
        try run { connection, logger in
            try await connection.rows("SELECT campaign_id FROM target WHERE id = \(id)", logger: logger).first?.decode(Int64.self)
        }
    }

    func letter(_ lookup: BounceLetter.Lookup) throws -> BounceLetter? {
        try run { connection, logger in
            let select: PostgresQuery = """
                SELECT l.id, l.campaign_id, l.target_id, l.status, l.message_id, t.email, t.name, t.disabled, s.email
                FROM letter l JOIN target t ON t.id = l.target_id JOIN supporter s ON s.id = l.supporter_id
                """
            var query = select
            switch lookup {
            case .id(let id): query.sql += " WHERE l.id = $\(query.binds.count + 1)"; query.binds.append(id)
            case .messageId(let messageId): query.sql += " WHERE l.message_id = $\(query.binds.count + 1)"; query.binds.append(messageId)
            case .sentTo(let keys, let since):
                query.sql += """
                     WHERE t.email_key = ANY($1) AND l.status IN ('sent', 'bounced') AND l.sent_at >= $2 ORDER BY l.sent_at DESC, l.id DESC LIMIT 1
                    """
                query.binds.append(keys)
                query.binds.append(since)
            }
            guard let row = try await connection.rows(query, logger: logger).first else { return nil }
            let (id, campaignId, targetId, status, messageId, targetEmail, targetName, disabled, supporterEmail)
                = try row.decode((Int64, Int64, Int64, String, String, String, String, Bool, String?).self)
            return BounceLetter(id: id, campaignId: campaignId, targetId: targetId, status: status, messageId: messageId, targetEmail: targetEmail,
                                targetName: targetName, targetDisabled: disabled, supporterEmail: supporterEmail)
        }
    }

    func markBounced(letterId: Int64, code: Int?, reply: String, at now: Date) throws -> Bool {
        try run { connection, logger in
            try await !connection.rows("""
                UPDATE letter SET status = 'bounced', bounced_at = \(now), updated_at = \(now), last_code = \(code), last_reply = \(reply)
                WHERE id = \(letterId) AND status = 'sent' RETURNING id
                """, logger: logger).isEmpty
        }
    }

    func disable(targetId: Int64, reason: String) throws -> Bool {
        try run { connection, logger in
            try await !connection.rows("""
                UPDATE target SET disabled = true, disabled_reason = \(reason) WHERE id = \(targetId) AND NOT disabled AND removed_at IS NULL RETURNING id
                """, logger: logger).isEmpty
        }
    }

    func transientFailureDays(targetId: Int64, since: Date) throws -> (days: Int, first: Date?) {
        try run { connection, logger in
            let row = try await connection.rows("""
                SELECT count(DISTINCT (received_at AT TIME ZONE 'UTC')::date)::bigint, min(received_at) FROM bounce
                WHERE target_id = \(targetId) AND counted AND class = 'transient' AND received_at >= \(since)
                """, logger: logger).first
            let (days, first) = try row?.decode((Int64, Date?).self) ?? (Int64(0), nil)
            return (Int(days), first)
        }
    }

    func store(_ message: StoredBounceMessage) throws -> Int64 {
        try run { connection, logger in
            try await connection.rows("""
                INSERT INTO bounce_message (sha256, received_at, source, size, sender, subject, format, class, verp, campaign_id, outcome, problem, raw)
                VALUES (\(message.sha256), \(message.receivedAt), \(message.source), \(message.size), \(message.sender), \(message.subject),
                        \(message.format), \(message.bounceClass), \(message.verp), \(message.campaignId), \(message.outcome), \(message.problem),
                        \(message.raw))
                RETURNING id
                """, logger: logger).first!.decode(Int64.self)
        }
    }

    func store(_ report: StoredBounceReport) throws {
        _ = try run { connection, logger in
            try await connection.query("""
                INSERT INTO bounce (message_id, received_at, letter_id, target_id, matched_by, recipient, action, status, diagnostic, class, counted, effect)
                VALUES (\(report.messageId), \(report.receivedAt), \(report.letterId), \(report.targetId), \(report.matchedBy), \(report.recipient),
                        \(report.action), \(report.status), \(report.diagnostic), \(report.bounceClass), \(report.counted), \(report.effect))
                """, logger: logger)
        }
    }

    func setOutcome(_ outcome: String, messageId: Int64) throws {
        _ = try run { connection, logger in
            try await connection.query("UPDATE bounce_message SET outcome = \(outcome) WHERE id = \(messageId)", logger: logger)
        }
    }
}

extension PostgresStore {
    /// The messages received for a campaign, and those matched to none (never dropped), newest first.
    public func bounces(campaign slug: String, limit: Int = 100) async throws(AppealsError) -> [BounceListing] {
        try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            var listings: [BounceListing] = []
            for row in try await connection.rows("""
                SELECT m.id, m.received_at, m.source, m.size, m.sender, m.subject, m.format, m.class, m.verp, c.slug, m.outcome,
                       m.problem, m.raw IS NOT NULL
                FROM bounce_message m LEFT JOIN campaign c ON c.id = m.campaign_id
                WHERE m.campaign_id = \(campaign.id!) OR m.campaign_id IS NULL ORDER BY m.id DESC LIMIT \(limit)
                """, logger: logger) {
                let (id, receivedAt, source, size, sender, subject, format, bounceClass, verp, slug, outcome, problem, kept)
                    = try row.decode((Int64, Date, String, Int, String?, String?, String, String, String, String?, String, String?, Bool).self)
                var reports: [BounceListing.Report] = []
                for (recipient, status, diagnostic, reportClass, matchedBy, letterId, counted, effect) in try await connection.rows("""
                    SELECT recipient, status, diagnostic, class, matched_by, letter_id, counted, effect FROM bounce WHERE message_id = \(id) ORDER BY id
                    """, logger: logger).decode((String, String?, String?, String, String?, Int64?, Bool, String).self) {
                    reports.append(BounceListing.Report(recipient: recipient, status: status, diagnostic: diagnostic, bounceClass: reportClass,
                                                        matchedBy: matchedBy, letterId: letterId, counted: counted, effect: effect))
                }
                listings.append(BounceListing(id: id, receivedAt: receivedAt, source: source, size: size, sender: sender, subject: subject,
                                              format: format, bounceClass: bounceClass, verp: verp, campaign: slug, outcome: outcome,
                                              problem: problem, kept: kept, reports: reports))
            }
            return listings
        }
    }

    /// A kept message's bytes (one that matched no letter).
    /// - Throws: ``AppealsError/notFound(_:)`` when there is no such message, or it was not kept.
    public func keptBounce(id: Int64) async throws(AppealsError) -> Data {
        let raw = try await transaction { connection in
            try await connection.rows("SELECT raw FROM bounce_message WHERE id = \(id) AND raw IS NOT NULL", logger: logger).first?.decode(Data.self)
        }
        guard let raw else { throw .notFound("no kept bounce message \(id): `appeal-cli bounces list` shows them (only unmatched ones are kept)") }
        return raw
    }
}
