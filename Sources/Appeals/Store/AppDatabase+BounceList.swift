import Foundation
import GRDB

/// One received message as `bounces list` shows it: what it was and what it did.
public struct BounceListing: Sendable {
    public struct Report: Sendable {
        public var recipient: String
        public var status: String?
        public var diagnostic: String?
        public var bounceClass: String
        public var matchedBy: String?
        public var letterId: Int64?
        public var counted: Bool
        public var effect: String

        public init(recipient: String, status: String?, diagnostic: String?, bounceClass: String, matchedBy: String?, letterId: Int64?,
                    counted: Bool, effect: String) {
            (self.recipient, self.status, self.diagnostic, self.bounceClass) = (recipient, status, diagnostic, bounceClass)
            (self.matchedBy, self.letterId, self.counted, self.effect) = (matchedBy, letterId, counted, effect)
        }
    }

    public init(id: Int64, receivedAt: Date, source: String, size: Int, sender: String?, subject: String?, format: String, bounceClass: String,
                verp: String, campaign: String?, outcome: String, problem: String?, kept: Bool, reports: [Report]) {
        (self.id, self.receivedAt, self.source, self.size, self.sender, self.subject) = (id, receivedAt, source, size, sender, subject)
        (self.format, self.bounceClass, self.verp, self.campaign, self.outcome) = (format, bounceClass, verp, campaign, outcome)
        (self.problem, self.kept, self.reports) = (problem, kept, reports)
    }

    public var id: Int64
    public var receivedAt: Date
    public var source: String
    public var size: Int
    public var sender: String?
    public var subject: String?
    public var format: String
    public var bounceClass: String
    public var verp: String
    /// nil: matched to no campaign.
    public var campaign: String?
    public var outcome: String
    public var problem: String?
    /// The message itself is kept (it matched no letter): `bounces show ID` prints it.
    public var kept: Bool
    public var reports: [Report]

    public var json: OrderedJSON {
        .object([
            ("id", .int(Int(id))), ("receivedAt", .string(ISO8601DateFormatter().string(from: receivedAt))), ("source", .string(source)),
            ("size", .int(size)), ("from", sender.map(OrderedJSON.string) ?? .null), ("subject", subject.map(OrderedJSON.string) ?? .null),
            ("format", .string(format)), ("class", .string(bounceClass)), ("verp", .string(verp)),
            ("campaign", campaign.map(OrderedJSON.string) ?? .null), ("outcome", .string(outcome)),
            ("problem", problem.map(OrderedJSON.string) ?? .null), ("kept", .bool(kept)),
            ("reports", .array(reports.map { report in
                .object([
                    ("recipient", .string(report.recipient)), ("status", report.status.map(OrderedJSON.string) ?? .null),
                    ("diagnostic", report.diagnostic.map(OrderedJSON.string) ?? .null), ("class", .string(report.bounceClass)),
                    ("matchedBy", report.matchedBy.map(OrderedJSON.string) ?? .null),
                    ("letter", report.letterId.map { .int(Int($0)) } ?? .null), ("counted", .bool(report.counted)),
                    ("effect", .string(report.effect)),
                ])
            })),
        ])
    }
}

extension AppDatabase {
    /// The messages received for a campaign, and those matched to none (never dropped), newest first.
    public func bounces(campaign slug: String, limit: Int = 100) throws(AppealsError) -> [BounceListing] {
        try read { db in
            let campaign = try Self.campaign(slug, in: db)
            let messages = try Row.fetchAll(db, sql: """
                SELECT m.id, m.received_at, m.source, m.size, m.sender, m.subject, m.format, m.class, m.verp, c.slug, m.outcome,
                       m.problem, m.raw IS NOT NULL
                FROM bounce_message m LEFT JOIN campaign c ON c.id = m.campaign_id
                WHERE m.campaign_id = ? OR m.campaign_id IS NULL ORDER BY m.id DESC LIMIT ?
                """, arguments: [campaign.id, limit])
            return try messages.map { row in
                let reports = try Row.fetchAll(db, sql: """
                    SELECT recipient, status, diagnostic, class, matched_by, letter_id, counted, effect FROM bounce WHERE message_id = ? ORDER BY id
                    """, arguments: [row[0] as Int64]).map { report in
                    BounceListing.Report(recipient: report[0], status: report[1], diagnostic: report[2], bounceClass: report[3],
                                         matchedBy: report[4], letterId: report[5], counted: report[6], effect: report[7])
                }
                return BounceListing(id: row[0], receivedAt: row[1], source: row[2], size: row[3], sender: row[4], subject: row[5],
                                     format: row[6], bounceClass: row[7], verp: row[8], campaign: row[9], outcome: row[10],
                                     problem: row[11], kept: row[12], reports: reports)
            }
        }
    }

    /// A kept message's bytes (one that matched no letter).
    /// - Throws: ``AppealsError/notFound(_:)`` when there is no such message, or it was not kept.
    public func keptBounce(id: Int64) throws(AppealsError) -> Data {
        try read { db in
            guard let raw = try Data.fetchOne(db, sql: "SELECT raw FROM bounce_message WHERE id = ? AND raw IS NOT NULL", arguments: [id]) else {
                throw AppealsError.notFound("no kept bounce message \(id): `appeal-cli bounces list` shows them (only unmatched ones are kept)")
            }
            return raw
        }
    }
}
