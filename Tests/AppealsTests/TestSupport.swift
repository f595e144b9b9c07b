import Foundation
@testable import Appeals

/// Files under `Tests/AppealsTests/Fixtures` and the shipped example campaign.
enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let exampleCampaign = packageRoot.appendingPathComponent("templates/observatory-urgent-appeal").path

    static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
    static func bytes(_ name: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path(name)) ?? Data()) }
}

/// A fresh database in its own temporary folder, removed when the test ends.
final class TestDatabase {
    let folder: URL
    let database: AppDatabase
    static let slug = "azerbaijan-rufat-safarov"
    static let fixedNow = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("appeal-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        database = try AppDatabase(path: folder.appendingPathComponent("test.sqlite").path)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// The example campaign, stored.
    @discardableResult
    func createExampleCampaign() throws -> Campaign {
        try database.createCampaign(try CampaignFolder(path: Fixtures.exampleCampaign, now: Self.fixedNow))
    }

    func importSupporters(_ fixture: String, skipInvalid: Bool = false) throws -> ImportReport {
        let table = try CSVTable(file: fixture, bytes: Fixtures.bytes(fixture), known: Supporter.csvColumns, required: Supporter.csvRequiredColumns)
        return try database.importSupporters(table, campaign: Self.slug, skipInvalid: skipInvalid, now: Self.fixedNow)
    }

    func count(_ table: String) throws -> Int {
        try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }

    func queue() throws -> QueueReport {
        let ids = MessageIDGenerator { "<test-\(UUID().uuidString)@example.org>" }
        return try database.queueLetters(campaign: Self.slug, messageIDs: ids, now: Self.fixedNow, timeZone: TimeZone(identifier: "UTC")!)
    }
}

/// The issues an `AppealsError` carries, for assertions.
func issues(of body: () throws -> Void) -> [InputIssue] {
    do {
        try body()
    } catch let error as AppealsError {
        if case .invalidInput(let issues) = error { return issues }
    } catch {}
    return []
}
