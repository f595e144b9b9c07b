import Foundation
import GRDB
import Testing
import TestSupport
@testable import Appeals

@Suite("The store keeps the product's rules itself")
struct DatabaseTests {
    @Test("the database file is created readable by its owner only")
    func fileMode() throws {
        let store = try TestDatabase()
        let attributes = try FileManager.default.attributesOfItem(atPath: store.database.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test("SQLite itself refuses a second letter for the same supporter and target")
    func oneLetterPerPair() async throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        _ = try store.importSupporters("supporters-crlf.csv")
        _ = try await store.queue()
        let error = #expect(throws: DatabaseError.self) {
            try store.database.writer.write { db in
                try db.execute(sql: """
                    INSERT INTO letter (campaign_id, supporter_id, target_id, language, message_id, queued_at, due_at, updated_at)
                    SELECT campaign_id, supporter_id, target_id, language, '<other@example.org>', queued_at, due_at, updated_at
                    FROM letter LIMIT 1
                    """)
            }
        }
        #expect(error?.resultCode == .SQLITE_CONSTRAINT)
        #expect(error?.message?.contains("letter.campaign_id, letter.supporter_id, letter.target_id") == true)
    }

    static let refusedStatements: [(String, String)] = [
        ("same email, other case and spaces", "INSERT INTO supporter (campaign_id, name, email, email_key, created_at) VALUES (1, 'X', ' JUERGEN@example.net', ' juergen@example.net', '2026-01-01')"),
        ("email key not normalized", "INSERT INTO supporter (campaign_id, name, email, email_key, created_at) VALUES (1, 'X', 'New@example.net', 'New@example.net', '2026-01-01')"),
        ("unknown letter status", "UPDATE letter SET status = 'lost'"),
        ("unknown target kind", "UPDATE target SET kind = 'consulate'"),
        ("embassy without a country", "UPDATE target SET country = NULL WHERE kind = 'embassy'"),
        ("second embassy in one country", "UPDATE target SET country = 'FR' WHERE kind = 'embassy'"),
        ("sent without a time", "UPDATE letter SET status = 'sent'"),
        ("letter of another campaign's supporter", "UPDATE letter SET campaign_id = 99"),
        ("lowercase country", "UPDATE supporter SET country = 'fr'"),
        ("bad campaign status", "UPDATE campaign SET status = 'archived'"),
    ]

    @Test("CHECK, UNIQUE and FOREIGN KEY constraints refuse invalid rows", arguments: refusedStatements)
    func constraints(_ name: String, _ sql: String) async throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        _ = try store.importSupporters("supporters-crlf.csv")
        _ = try await store.queue()
        let error = #expect(throws: DatabaseError.self, "\(name)") {
            try store.database.writer.write { db in try db.execute(sql: sql) }
        }
        #expect(error?.resultCode == .SQLITE_CONSTRAINT, "\(name)")
    }

    @Test("the database runs in WAL mode with foreign keys on")
    func pragmas() throws {
        let store = try TestDatabase()
        let (mode, foreignKeys) = try store.database.writer.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"))
        }
        #expect(mode == "wal")
        #expect(foreignKeys == 1)
    }

    @Test("creating the same campaign twice is refused and changes nothing")
    func duplicateCampaign() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        #expect(throws: AppealsError.conflict("campaign azerbaijan-rufat-safarov already exists")) { try store.createExampleCampaign() }
        #expect(try store.count("campaign") == 1)
        #expect(try store.count("target") == 14)
    }
}
