import Foundation
import GRDB

/// A person who writes to the targets, in their own name.
public struct Supporter: Codable, Sendable, Equatable, Identifiable {
    public var id: Int64?
    public var campaignId: Int64
    public var name: String
    /// `nil` once the supporter's personal data has been erased.
    public var email: String?
    /// `email` trimmed and lower-cased: unique per campaign.
    public var emailKey: String?
    /// ISO 3166-1 alpha-2.
    public var country: String?
    public var city: String?
    public var language: String?
    /// `nil` when the list did not say; letters are never written for a supporter whose consent is `false`.
    public var consent: Bool?
    public var personalNote: String?
    public var createdAt: Date
    public var erasedAt: Date?
}

extension Supporter: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "supporter"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Decoded by hand: `Codable` decoding with snake-case keys cost more per supporter than rendering a letter.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        campaignId = try row.decode(forColumn: "campaign_id")
        name = try row.decode(forColumn: "name")
        email = try row.decode(forColumn: "email")
        emailKey = try row.decode(forColumn: "email_key")
        country = try row.decode(forColumn: "country")
        city = try row.decode(forColumn: "city")
        language = try row.decode(forColumn: "language")
        consent = try row.decode(forColumn: "consent")
        personalNote = try row.decode(forColumn: "personal_note")
        createdAt = try row.decode(forColumn: "created_at")
        erasedAt = try row.decode(forColumn: "erased_at")
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
