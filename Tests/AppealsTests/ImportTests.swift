import Foundation
import Synchronization
import GRDB
import Testing
import TestSupport
@testable import Appeals

@Suite("Supporter and target imports")
struct ImportTests {
    @Test("a valid CRLF file with quoted commas and line breaks imports every field")
    func importsQuotedFields() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        let report = try store.importSupporters("supporters-crlf.csv")
        #expect(report.imported == 2)
        let chloe = try store.database.supporter(email: "CHLOE@example.org", campaign: TestDatabase.slug)
        #expect(chloe.name == "Dubois, Chloé")
        #expect(chloe.country == "BE")
        #expect(chloe.consent == true)
        #expect(chloe.personalNote == "Line one,\nline two with \"quotes\"")
    }

    @Test("a byte-order mark and any column order are accepted")
    func bomAndOrder() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        #expect(try store.importSupporters("supporters-bom.csv").imported == 1)
        #expect(try store.database.supporter(email: "bom@example.org", campaign: TestDatabase.slug).name == "Bom Person")
    }

    @Test("a file cut short or added to while it is imported is refused, naming it, and nothing is stored", arguments: [false, true])
    func fileChangedDuringImport(_ added: Bool) throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        let path = store.folder.appendingPathComponent("changing.csv").path
        var text = "name,email,country,city,language\n"
        for index in 0..<40_000 { text += "Supporter \(index),supporter\(index)@example.net,FR,Lyon,en\n" }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(text.utf8.count > 2_000_000 && text.utf8.count < 4_000_000)
        // The file changes once its first rows have been read: another program saving over it.
        let source = ChangingFile(csv: try CSVFile(path: path, known: Supporter.csvColumns, required: Supporter.csvRequiredColumns)) {
            if added {
                let handle = FileHandle(forWritingAtPath: path)
                _ = try? handle?.seekToEnd()
                try? handle?.write(contentsOf: Data("Late Comer,late@example.net,FR,Lyon,en\n".utf8))
                try? handle?.close()
            } else {
                #expect(truncate(path, 2_000_000) == 0)
            }
        }
        let found = issues { _ = try store.database.importSupporters(source, campaign: TestDatabase.slug) }
        #expect(found.count == 1 && found.first?.location.file == path, "\(found)")
        #expect(found.first?.message.contains("the file changed while it was being read") == true, "\(found)")
        #expect(try store.count("supporter") == 0)
    }

    @Test("a named pipe with no writer, a folder or a missing file is refused at once, naming it and why: supporters, targets, a config",
          arguments: ["supporters", "targets", "config"])
    func notAPlainFile(_ reader: String) throws {
        let store = try TestDatabase()
        let pipe = store.folder.appendingPathComponent("input").path
        #expect(mkfifo(pipe, 0o600) == 0)
        let read: @Sendable (String) throws -> Void = switch reader {
        case "supporters": { _ = try CSVFile(path: $0, known: Supporter.csvColumns, required: Supporter.csvRequiredColumns) }
        case "targets": { _ = try CSVTable(path: $0, known: Target.csvColumns, required: Target.csvRequiredColumns) }
        default: { _ = try AppConfig.load(path: $0) }
        }
        for (path, reason) in [(pipe, "not a regular file"), (store.folder.path, "a folder, not a file"),
                               (store.folder.appendingPathComponent("missing.csv").path, "No such file or directory")] {
            // Read on a thread of its own: a reader that waits for the pipe's writer is let go, and counted as a failure.
            let found = Mutex<[InputIssue]?>(nil)
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                let refused = issues { try read(path) }
                found.withLock { $0 = refused }
                done.signal()
            }
            if done.wait(timeout: .now() + 10) == .timedOut {
                Issue.record("\(path): still waiting after 10 s")
                let writer = open(pipe, O_WRONLY | O_NONBLOCK)
                close(writer)
                done.wait()
            }
            let refused = found.withLock { $0 } ?? []
            #expect(refused.count == 1 && refused.first?.location.file == path && refused.first?.message.contains(reason) == true, "\(refused)")
        }
    }

    @Test("a bad file is rejected whole, every bad line listed, nothing stored")
    func allOrNothing() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        let found = issues { _ = try store.importSupporters("supporters-bad.csv") }
        #expect(found.map { "\($0.location.line!):\($0.location.field!)" } == ["3:email", "4:country", "5:name"])
        #expect(found.allSatisfy { $0.location.file == "supporters-bad.csv" })
        #expect(try store.count("supporter") == 0)
    }

    @Test("--skip-invalid imports the good rows and lists the rest")
    func skipInvalid() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        let report = try store.importSupporters("supporters-bad.csv", skipInvalid: true)
        #expect(report.imported == 2)
        #expect(report.skipped.listed.map { $0.location.line } == [3, 4, 5])
        #expect(try store.count("supporter") == 2)
    }

    @Test("unknown and missing columns are named", arguments: [
        ("supporters-unknown-column.csv", "favourite_colour", "unknown column"),
        ("supporters-missing-column.csv", "email", "required column is missing"),
    ])
    func columns(_ fixture: String, _ column: String, _ message: String) throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        let found = issues { _ = try store.importSupporters(fixture) }
        #expect(found.contains { $0.location.field == column && $0.location.line == 1 && $0.message.contains(message) }, "\(found)")
    }

    @Test("a supporter listed twice, or imported twice, is reported and stored once")
    func duplicates() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        let first = try store.importSupporters("supporters-duplicates.csv")
        #expect(first.imported == 2)
        #expect(first.alreadyPresent.listed.map { $0.location.line } == [3])
        let second = try store.importSupporters("supporters-duplicates.csv")
        #expect(second.imported == 0)
        #expect(second.alreadyPresent.count == 3)
        #expect(try store.count("supporter") == 2)
        #expect(try store.database.supporter(email: "twice@example.org", campaign: TestDatabase.slug).name == "First Sign-up")
    }

    @Test("line breaks in a name and a second address in an email are refused")
    func injection() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        let found = issues { _ = try store.importSupporters("supporters-injection.csv") }
        #expect(found.map { "\($0.location.line!):\($0.location.field!)" } == ["2:name", "4:email"])
        #expect(try store.count("supporter") == 0)
    }

    @Test("target import checks kinds, countries, time zones and one embassy per country")
    func targetErrors() throws {
        let store = try TestDatabase()
        try store.createExampleCampaign()
        let csv = """
            kind,name,email,country,timezone,salutation
            minister,A,a@example.org,AZ,,Excellency
            embassy,B,b@example.net,,,Excellency
            embassy,C,c@example.net,FR,Mars/Olympus,Excellency
            embassy,D,d@example.net,FR,,Excellency
            official,E,president@example.org,AZ,,Excellency
            embassy,Embassy in Japan,embassy.jp@example.net,JP,Asia/Tokyo,Excellency

            """
        let table = try CSVTable(file: "more-targets.csv", bytes: Array(csv.utf8), known: Target.csvColumns, required: Target.csvRequiredColumns)
        let found = issues { _ = try store.database.importTargets(table, campaign: TestDatabase.slug) }
        #expect(found.map { "\($0.location.line!):\($0.location.field!)" } == ["2:kind", "3:country", "4:timezone", "5:country"])
        #expect(try store.count("target") == 14)
        let report = try store.database.importTargets(table, campaign: TestDatabase.slug, skipInvalid: true)
        #expect(report.imported == 1)
        #expect(report.alreadyPresent.listed.map { $0.location.line } == [6])
        #expect(try store.count("target") == 15)
    }
}

/// A CSV file that `change` alters after its tenth row has been handed out.
private struct ChangingFile: CSVRowSource {
    let csv: CSVFile
    let change: () -> Void
    var file: String { csv.file }

    func forEachItem(_ body: (CSVItem) throws -> Void) throws {
        var handed = 0
        try csv.forEachItem { item in
            handed += 1
            if handed == 10 { change() }
            try body(item)
        }
    }
}
