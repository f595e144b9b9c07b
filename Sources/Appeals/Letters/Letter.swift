import Foundation
import GRDB

/// One rendered letter from one supporter to one target; never two for the same pair.
public struct Letter: Codable, Sendable, Equatable, Identifiable {
    public var id: Int64?
    public var campaignId: Int64
    public var supporterId: Int64
    public var targetId: Int64
    public var language: String
    /// Fixed when the letter is queued, so a resend after a crash carries the same id.
    public var messageId: String
    public var status: LetterStatus
    public var attempts: Int
    public var lastCode: Int?
    public var lastReply: String?
    public var queuedAt: Date
    /// When the letter may next be tried.
    public var dueAt: Date
    /// The send run holding the letter while it is `sending`.
    public var claimedBy: String?
    public var claimedAt: Date?
    public var sentAt: Date?
    public var updatedAt: Date
    /// Set when the letter was found in `sending` after a crash and sent again.
    public var possibleDuplicate: Bool
}

extension Letter {
    /// A letter just queued, due at once, with the Message-ID it keeps for life.
    static func queued(supporter: Supporter, target: Target, language: String, messageId: String, at now: Date) -> Letter {
        Letter(id: nil, campaignId: target.campaignId, supporterId: supporter.id!, targetId: target.id!, language: language,
               messageId: messageId, status: .queued, attempts: 0, lastCode: nil, lastReply: nil, queuedAt: now, dueAt: now,
               claimedBy: nil, claimedAt: nil, sentAt: nil, updatedAt: now, possibleDuplicate: false)
    }
}

extension Letter: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "letter"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension Letter {
    /// Decodes by column name without Codable: claims decode thousands of letters a second.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        campaignId = try row.decode(forColumn: "campaign_id")
        supporterId = try row.decode(forColumn: "supporter_id")
        targetId = try row.decode(forColumn: "target_id")
        language = try row.decode(forColumn: "language")
        messageId = try row.decode(forColumn: "message_id")
        status = try row.decode(forColumn: "status")
        attempts = try row.decode(forColumn: "attempts")
        lastCode = try row.decode(forColumn: "last_code")
        lastReply = try row.decode(forColumn: "last_reply")
        queuedAt = try row.decode(forColumn: "queued_at")
        dueAt = try row.decode(forColumn: "due_at")
        claimedBy = try row.decode(forColumn: "claimed_by")
        claimedAt = try row.decode(forColumn: "claimed_at")
        sentAt = try row.decode(forColumn: "sent_at")
        updatedAt = try row.decode(forColumn: "updated_at")
        possibleDuplicate = try row.decode(forColumn: "possible_duplicate")
    }
}

/// A letter's subject and body, stored apart from its status (see the schema).
public struct LetterText: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public var letterId: Int64
    public var subject: String
    public var body: String

    public static let databaseTableName = "letter_text"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public init(letterId: Int64, subject: String, body: String) {
        self.letterId = letterId
        self.subject = subject
        self.body = body
    }

    /// Decoded by hand, like ``Letter``: every letter sent reads one.
    public init(row: Row) throws {
        letterId = try row.decode(forColumn: "letter_id")
        subject = try row.decode(forColumn: "subject")
        body = try row.decode(forColumn: "body")
    }
}
