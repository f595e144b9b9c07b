import Appeals
import Foundation
import GRDB

/// Test fixtures (`Tests/Fixtures`), the test servers and the shipped example campaign.
public enum Fixtures {
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let folder = packageRoot.appendingPathComponent("Tests/Fixtures")
    public static let servers = packageRoot.appendingPathComponent("Tests/Servers")
    public static let exampleCampaign = packageRoot.appendingPathComponent("templates/observatory-urgent-appeal").path

    public static func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
    public static func bytes(_ name: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: path(name)) ?? Data()) }

    /// A bounce fixture of `Tests/Fixtures/bounces/` with its `{{KEY}}` placeholders filled in.
    public static func bounce(_ name: String, _ values: [String: String]) -> String {
        values.reduce(String(decoding: bytes("bounces/\(name)"), as: UTF8.self)) { text, value in
            text.replacingOccurrences(of: "{{\(value.key)}}", with: value.value)
        }
    }
}

/// A fresh database in its own temporary folder, removed when the test ends.
public final class TestDatabase: Sendable {
    public let folder: URL
    public let database: AppDatabase
    public static let slug = "azerbaijan-rufat-safarov"
    /// 2026-11-18 11:06:40 UTC: inside the example campaign's sending hours in Europe and Baku.
    public static let fixedNow = Date(timeIntervalSince1970: 1_795_000_000)

    public init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("appeal-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        database = try AppDatabase(path: folder.appendingPathComponent("test.sqlite").path)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// The example campaign, stored.
    @discardableResult
    public func createExampleCampaign() throws -> Campaign {
        try database.createCampaign(try CampaignFolder(path: Fixtures.exampleCampaign, now: Self.fixedNow))
    }

    public func importSupporters(_ fixture: String, skipInvalid: Bool = false) throws -> ImportReport {
        let table = try CSVTable(file: fixture, bytes: Fixtures.bytes(fixture), known: Supporter.csvColumns, required: Supporter.csvRequiredColumns)
        return try database.importSupporters(table, campaign: Self.slug, skipInvalid: skipInvalid, now: Self.fixedNow)
    }

    public func count(_ table: String) throws -> Int {
        try database.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }

    public func queue() async throws -> QueueReport {
        let ids = MessageIDGenerator { "<test-\(UUID().uuidString)@example.org>" }
        return try await database.queueLetters(campaign: Self.slug, messageIDs: ids, now: Self.fixedNow, timeZone: TimeZone(identifier: "UTC")!)
    }
}

/// The issues an `AppealsError` carries, for assertions.
public func issues(of body: () throws -> Void) -> [InputIssue] {
    do {
        try body()
    } catch let error as AppealsError {
        if case .invalidInput(let issues) = error { return issues }
    } catch {}
    return []
}
