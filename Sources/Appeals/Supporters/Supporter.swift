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

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
