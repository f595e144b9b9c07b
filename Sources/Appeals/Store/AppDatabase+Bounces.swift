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
        let sha256 = message.sha256
        // A message fed again (a rerun over an mbox, a mail system redelivering) is not read again.
        if let earlier = try read({ db in try Self.earlierIngest(of: sha256, db) }) { return earlier }
        let parsed = message.problem == nil ? ReceivedMessage(parsing: message.bytes) : nil
        let problem = message.problem ?? (parsed?.looksLikeMail == false ? "no header fields: not a mail message" : nil)
        let analysis = problem == nil ? parsed.map(BounceParser.analyze) : nil
        return try write { db in
            // Checked again in the transaction: another run may have stored it meanwhile.
            if let earlier = try Self.earlierIngest(of: sha256, db) { return earlier }
            let matcher = BounceMatcher(db: db, policy: policy, now: now)
            let verdict = try analysis.map { try matcher.judge($0, envelopeRecipient: message.envelopeRecipient) }
                ?? BounceMatcher.Verdict(verp: "none", campaignId: nil, reports: [], outcome: "not read: kept")
            let bounceClass = analysis?.overallClass ?? .unrecognized
            // Kept when it matched no letter (forged ones included), for the organizer to look at.
            let keepRaw = !verdict.matchedLetter
            try db.execute(sql: """
                INSERT INTO bounce_message (sha256, received_at, source, size, sender, subject, format, class, verp, campaign_id, outcome, problem, raw)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [sha256, now, message.source, message.size, analysis?.from.map { String($0.prefix(300)) },
                                 analysis?.subject.map { String($0.prefix(300)) }, analysis?.format.rawValue ?? "none",
                                 bounceClass.rawValue, verdict.verp, verdict.campaignId, verdict.outcome, problem,
                                 keepRaw ? Data(message.bytes.prefix(InboundMessage.maxKeptBytes)) : nil])
            let messageId = db.lastInsertedRowID
            var outcome = verdict.outcome
            for report in verdict.reports {
                try db.execute(sql: """
                    INSERT INTO bounce (message_id, received_at, letter_id, target_id, matched_by, recipient, action, status, diagnostic, class, counted, effect)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [messageId, now, report.letterId, report.targetId, report.matchedBy, report.report.recipient,
                                     report.report.action, report.report.status, report.report.diagnostic,
                                     report.report.bounceClass.rawValue, report.counted, report.effect])
                if report.counted && report.report.bounceClass == .transient, let targetId = report.targetId,
                   let disabled = try matcher.disableAfterRepeatedTransientFailures(targetId: targetId) {
                    outcome += "; " + disabled
                    try db.execute(sql: "UPDATE bounce_message SET outcome = ? WHERE id = ?", arguments: [outcome, messageId])
                }
            }
            return BounceIngestResult(isNew: true, bounceClass: bounceClass, outcome: outcome, problem: problem,
                                      actedOn: verdict.reports.contains { $0.counted })
        }
    }

    /// What storing the same message did the first time, if it was stored before.
    static func earlierIngest(of sha256: Data, _ db: Database) throws -> BounceIngestResult? {
        try Row.fetchOne(db, sql: "SELECT class, outcome, problem FROM bounce_message WHERE sha256 = ?", arguments: [sha256]).map { row in
            BounceIngestResult(isNew: false, bounceClass: BounceClass(rawValue: row[0]) ?? .unrecognized,
                               outcome: "already ingested, nothing changed now (the first time: \(row[1] as String))",
                               problem: row[2], actedOn: false)
        }
    }
}
