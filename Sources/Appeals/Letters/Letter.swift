import Foundation
import GRDB

/// One rendered letter from one supporter to one target; never two for the same pair.
public struct Letter: Codable, Sendable, Equatable, Identifiable {
    public var id: Int64?
    public var campaignId: Int64
    public var supporterId: Int64
    public var targetId: Int64
    public var language: String
    public var subject: String
    public var body: String
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

extension Letter: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "letter"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
