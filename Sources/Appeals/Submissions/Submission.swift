import Foundation
import GRDB

/// A supporter's letters as submitted on the campaign page, waiting for the link in the confirmation email.
public struct Submission: Codable, Sendable, Equatable {
    public var id: Int64?
    public var campaignId: Int64
    /// SHA-256 of the token in the confirmation link; the token itself is never stored.
    public var tokenHash: Data
    public var name: String
    public var email: String
    public var emailKey: String
    public var country: String?
    public var city: String?
    public var language: String?
    public var personalNote: String?
    /// The language the supporter read the page in: the confirmation email and later pages use it.
    public var pageLanguage: String
    public var createdAt: Date
    public var expiresAt: Date
    public var confirmedAt: Date?
    public var supporterId: Int64?

    /// A new submission, waiting for its link to be opened until `expiresAt`.
    public init(campaignId: Int64, tokenHash: Data, supporter: Supporter, pageLanguage: String, createdAt: Date, expiresAt: Date) {
        self.campaignId = campaignId
        self.tokenHash = tokenHash
        name = supporter.name
        email = supporter.email ?? ""
        emailKey = supporter.emailKey ?? ""
        country = supporter.country
        city = supporter.city
        language = supporter.language
        personalNote = supporter.personalNote
        self.pageLanguage = pageLanguage
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// The supporter this submission creates, with consent given (the supporter ticked the box and confirmed).
    public func supporter(at now: Date) -> Supporter {
        Supporter(id: nil, campaignId: campaignId, name: name, email: email, emailKey: emailKey, country: country, city: city,
                  language: language, consent: true, personalNote: personalNote, createdAt: now, erasedAt: nil)
    }
}

extension Submission: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "submission"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// Decoded by hand: `Codable` decoding with snake-case keys was most of a confirmation's reads.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        campaignId = try row.decode(forColumn: "campaign_id")
        tokenHash = try row.decode(forColumn: "token_hash")
        name = try row.decode(forColumn: "name")
        email = try row.decode(forColumn: "email")
        emailKey = try row.decode(forColumn: "email_key")
        country = try row.decode(forColumn: "country")
        city = try row.decode(forColumn: "city")
        language = try row.decode(forColumn: "language")
        personalNote = try row.decode(forColumn: "personal_note")
        pageLanguage = try row.decode(forColumn: "page_language")
        createdAt = try row.decode(forColumn: "created_at")
        expiresAt = try row.decode(forColumn: "expires_at")
        confirmedAt = try row.decode(forColumn: "confirmed_at")
        supporterId = try row.decode(forColumn: "supporter_id")
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}
