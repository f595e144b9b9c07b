import Foundation
import GRDB

/// What ingesting one message did.
public struct BounceIngestResult: Sendable, Equatable {
    /// `false` when the same message had been ingested before: nothing changed.
    public var isNew: Bool
    public var bounceClass: BounceClass
    /// What it did, in words.
    public var outcome: String
    /// Why it could not be read, if it could not.
    public var problem: String?
    /// A trusted report of a failure: it bounced a letter, or counted against a target.
    public var actedOn: Bool
}

extension AppDatabase {
    /// Reads one received message and acts on it in one transaction: stores it (once, by its SHA-256), matches
    /// its reports to letters (VERP token, then the returned Message-ID, then the failed address), and moves
    /// the letters and targets on as ``BounceClass`` says.
    /// - Throws: ``AppealsError/storage(_:)`` when the database cannot be written (a temporary failure for a
    ///   mail system piping to us).
    public func ingestBounce(_ message: InboundMessage, policy: BouncePolicy, now: Date = Date()) throws(AppealsError) -> BounceIngestResult {
        // A message fed again (a rerun over an mbox, a mail system redelivering) is not read again.
        if let earlier = try read({ db in try SQLiteBounceLedger(db: db).earlierIngest(of: message.sha256) }) { return earlier }
        let reading = BounceLedgerIngest.Reading(message)
        return try write { db in try BounceLedgerIngest.run(message, reading: reading, policy: policy, now: now, ledger: SQLiteBounceLedger(db: db)) }
    }
}

/// The file's answers and records for an ingest, within its write transaction.
struct SQLiteBounceLedger: BounceLedger {
    let db: Database

    static let letterQuery = """
        SELECT l.id, l.campaign_id, l.target_id, l.status, l.message_id, t.email AS target_email, t.name AS target_name,
               t.disabled AS target_disabled, s.email AS supporter_email
        FROM letter l JOIN target t ON t.id = l.target_id JOIN supporter s ON s.id = l.supporter_id
        """

    func earlierIngest(of sha256: Data) throws -> BounceIngestResult? {
        try Row.fetchOne(db, sql: "SELECT class, outcome, problem FROM bounce_message WHERE sha256 = ?", arguments: [sha256]).map { row in
            BounceLedgerIngest.earlier(bounceClass: row[0], outcome: row[1], problem: row[2])
        }
    }

    func campaign(ofTarget id: Int64) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT campaign_id FROM target WHERE id = ?", arguments: [id])
    }

    func letter(_ lookup: BounceLetter.Lookup) throws -> BounceLetter? {
        let (condition, arguments): (String, StatementArguments) = switch lookup {
        case .id(let id): ("l.id = ?", [id])
        case .messageId(let messageId): ("l.message_id = ?", [messageId])
        case .sentTo(let keys, let since):
            ("t.email_key IN (?, ?) AND l.status IN ('sent', 'bounced') AND l.sent_at >= ? ORDER BY l.sent_at DESC, l.id DESC LIMIT 1",
             [keys.first, keys.last, since])
        }
        return try Row.fetchOne(db, sql: Self.letterQuery + " WHERE " + condition, arguments: arguments).map { row in
            BounceLetter(id: row["id"], campaignId: row["campaign_id"], targetId: row["target_id"], status: row["status"], messageId: row["message_id"],
                         targetEmail: row["target_email"], targetName: row["target_name"], targetDisabled: row["target_disabled"],
                         supporterEmail: row["supporter_email"])
        }
    }

    func markBounced(letterId: Int64, code: Int?, reply: String, at now: Date) throws -> Bool {
        try db.execute(sql: """
            UPDATE letter SET status = 'bounced', bounced_at = ?, updated_at = ?, last_code = ?, last_reply = ? WHERE id = ? AND status = 'sent'
            """, arguments: [now, now, code, reply, letterId])
        return db.changesCount > 0
    }

    func disable(targetId: Int64, reason: String) throws -> Bool {
        try db.execute(sql: "UPDATE target SET disabled = 1, disabled_reason = ? WHERE id = ? AND disabled = 0 AND removed_at IS NULL",
                       arguments: [reason, targetId])
        return db.changesCount > 0
    }

    func transientFailureDays(targetId: Int64, since: Date) throws -> (days: Int, first: Date?) {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT substr(received_at, 1, 10)), MIN(received_at) FROM bounce
            WHERE target_id = ? AND counted = 1 AND class = 'transient' AND received_at >= ?
            """, arguments: [targetId, since])
        return (row?[0] ?? 0, row?[1])
    }

    func store(_ message: StoredBounceMessage) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO bounce_message (sha256, received_at, source, size, sender, subject, format, class, verp, campaign_id, outcome, problem, raw)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [message.sha256, message.receivedAt, message.source, message.size, message.sender, message.subject, message.format,
                             message.bounceClass, message.verp, message.campaignId, message.outcome, message.problem, message.raw])
        return db.lastInsertedRowID
    }

    func store(_ report: StoredBounceReport) throws {
        try db.execute(sql: """
            INSERT INTO bounce (message_id, received_at, letter_id, target_id, matched_by, recipient, action, status, diagnostic, class, counted, effect)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [report.messageId, report.receivedAt, report.letterId, report.targetId, report.matchedBy, report.recipient,
                             report.action, report.status, report.diagnostic, report.bounceClass, report.counted, report.effect])
    }

    func setOutcome(_ outcome: String, messageId: Int64) throws {
        try db.execute(sql: "UPDATE bounce_message SET outcome = ? WHERE id = ?", arguments: [outcome, messageId])
    }
}
