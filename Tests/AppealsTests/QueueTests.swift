import Foundation
import GRDB
import Testing
import TestSupport
@testable import Appeals

@Suite("Targeting and queueing")
struct QueueTests {
    @Test("a supporter in France writes to the four officials and the embassy in France")
    func targetingWithEmbassy() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        _ = try store.importSupporters("supporters-crlf.csv")
        let targets = Targeting(try store.database.targets(ofCampaign: TestDatabase.slug))
        var supporter = try store.database.supporter(email: "juergen@example.net", campaign: TestDatabase.slug)
        supporter.country = "FR"
        #expect(targets.targets(for: supporter).map(\.email) == [
            "president@example.org", "prosecutor-general@example.org", "minister.justice@example.org",
            "minister.foreign-affairs@example.org", "embassy.fr@example.net",
        ])
        supporter.country = "NO"
        #expect(targets.targets(for: supporter).count == 4)
        supporter.country = nil
        #expect(targets.targets(for: supporter).allSatisfy { $0.kind == .official })
    }

    @Test("a disabled target receives nothing")
    func disabledTarget() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        var all = try store.database.targets(ofCampaign: TestDatabase.slug)
        all[0].disabled = true
        #expect(Targeting(all).officials.count == 3)
    }

    @Test("queue renders every letter once; running it again adds nothing")
    func idempotent() async throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        _ = try store.importSupporters("supporters-crlf.csv")  // one in DE, one in BE: both have embassies
        let first = try await store.queue()
        #expect(first.queued == 10)
        #expect(first.supportersWithoutEmbassy == 0)
        let second = try await store.queue()
        #expect(second.queued == 0)
        #expect(second.alreadyQueued == 10)
        #expect(try store.count("letter") == 10)
        let ids = try await store.database.writer.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT message_id FROM letter") }
        #expect(ids.count == 10)
    }

    @Test("new supporters get their letters on the next queue, in their own language")
    func incremental() async throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        _ = try await store.queue()
        _ = try store.database.addSupporter(["name": "Léa Favre", "email": "lea@example.net", "country": "CH", "language": "fr"],
                                            campaign: TestDatabase.slug)
        _ = try store.database.addSupporter(["name": "Bjørn Håland", "email": "bjorn@example.net", "country": "NO", "language": "nb"],
                                            campaign: TestDatabase.slug)
        let report = try await store.queue()
        #expect(report.queued == 9)
        #expect(report.supportersWithoutEmbassy == 1)
        let languages = try store.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT s.email, l.language, t.subject FROM letter l JOIN supporter s ON s.id = l.supporter_id JOIN letter_text t ON t.letter_id = l.id")
        }
        #expect(languages.filter { $0["email"] == "lea@example.net" }.allSatisfy { ($0["language"] as String) == "fr" && ($0["subject"] as String).hasPrefix("Azerbaïdjan") })
        // No Norwegian templates, and the officials' language is English.
        #expect(languages.filter { $0["email"] == "bjorn@example.net" }.allSatisfy { ($0["language"] as String) == "en" })
    }

    @Test("no letter is written in the name of a supporter who refused consent")
    func consent() async throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        _ = try store.database.addSupporter(["name": "No Thanks", "email": "no@example.net", "consent": "no"], campaign: TestDatabase.slug)
        let report = try await store.queue()
        #expect(report.queued == 0)
        #expect(report.supportersWithoutConsent == 1)
    }

    @Test("letters are queued only for active or paused campaigns")
    func campaignStatus() async throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        try store.database.setStatus(.draft, ofCampaign: TestDatabase.slug)
        await #expect(throws: AppealsError.self) { try await store.queue() }
        try store.database.setStatus(.paused, ofCampaign: TestDatabase.slug)
        await #expect(throws: Never.self) { try await store.queue() }
    }

    @Test("the status report counts supporters without an embassy and letters per target")
    func report() async throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        _ = try store.importSupporters("supporters-crlf.csv")
        _ = try store.database.addSupporter(["name": "Far Away", "email": "far@example.net", "country": "NZ"], campaign: TestDatabase.slug)
        _ = try await store.queue()
        let report = try store.database.report(campaign: TestDatabase.slug)
        #expect(report.supporters == 3)
        #expect(report.supportersWithoutEmbassy == 1)
        #expect(report.letters.queued == 14)
        #expect(report.targets.first { $0.email == "president@example.org" }?.pending == 3)
        #expect(report.targets.first { $0.email == "embassy.de@example.net" }?.pending == 1)
        #expect(report.targets.first { $0.email == "embassy.fr@example.net" }?.pending == 0)
        #expect(report.json.text.hasPrefix("{\"campaign\": \"azerbaijan-rufat-safarov\", \"supporters\": 3, \"supportersWithoutEmbassy\": 1, \"letters\": {\"queued\": 14, \"sending\": 0"))
    }

    @Test("a long queue copies its log into the file as it goes: the log stays a few batches long")
    func checkpointsAlongTheWay() async throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        for index in 0..<320 {
            _ = try store.database.addSupporter(["name": "Supporter \(index)", "email": "s\(index)@example.net", "country": "FR"],
                                                campaign: TestDatabase.slug)
        }
        try await store.database.writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        let cacheBefore = try await store.database.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
        let report = try await store.database.queueLetters(
            campaign: TestDatabase.slug, messageIDs: MessageIDGenerator(domain: "example.org"), now: TestDatabase.fixedNow, batchLetters: 10)
        #expect(report.queued == 320 * 5)
        let (textBytes, autocheckpoint) = try await store.database.writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT SUM(length(CAST(body AS BLOB))) FROM letter_text")!,
             try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")!)
        }
        let log = try FileManager.default.attributesOfItem(atPath: store.database.path + "-wal")[.size] as! Int
        // 160 batches of 10 letters: a log never restarted would hold every letter at least once.
        #expect(log < textBytes / 2, "log \(log) bytes for \(textBytes) bytes of letters")
        #expect(autocheckpoint == 1000)
        #expect(try await store.database.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") } == 1000)
        // The writer's own settings are put back: the larger cache is for queueing only.
        #expect(try await store.database.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") } == cacheBefore)
    }
}
