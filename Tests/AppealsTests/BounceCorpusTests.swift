import Appeals
import Foundation
import Testing
import TestSupport

/// Real-world bounces from a public source: the messages flufl.bounce (Mailman's bounce detector) tests
/// itself with, and the failed addresses its tests expect. Downloaded by `scripts/setup --tests`, never
/// committed (Apache License 2.0, theirs).
@Suite struct BounceCorpusTests {
    struct Expected: Decodable {
        var file: String
        var addresses: [String]
        var temporary: Bool
    }

    static var corpusRoot: URL {
        if let path = ProcessInfo.processInfo.environment["APPEAL_BOUNCE_CORPUS"] { return URL(fileURLWithPath: path) }
        return Fixtures.packageRoot.appendingPathComponent(".venv/corpus/flufl_bounce-6.0.0")
    }

    @Test func agreesWithTheCorpusOnFailedAddresses() throws {
        // Given the corpus and what its own tests expect
        let root = Self.corpusRoot
        try #require(FileManager.default.fileExists(atPath: root.appendingPathComponent("tests/test_detectors.py").path),
                     "no bounce corpus at \(root.path): run scripts/setup --tests")
        let expected = try JSONDecoder().decode([Expected].self, from: Python.output(of: [
            Fixtures.servers.appendingPathComponent("bounce_corpus.py").path, root.path]))
        try #require(expected.count >= 100)

        // When each message is read
        var agreed = 0, withAddresses = 0, temporaryAgreed = 0, temporaryExpected = 0, falseAlarms: [String] = []
        var disagreements: [String] = []
        for entry in expected {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: entry.file)))
            let analysis = BounceParser.analyze(ReceivedMessage(parsing: bytes))
            let found = Set(analysis.reports.filter { $0.bounceClass != .delivered }.map { $0.recipient.lowercased() })
            let wanted = Set(entry.addresses.map { $0.lowercased() })
            let name = URL(fileURLWithPath: entry.file).lastPathComponent
            guard !wanted.isEmpty else {
                if !found.isEmpty { falseAlarms.append("\(name): \(found.sorted())") }
                continue
            }
            withAddresses += 1
            if found == wanted { agreed += 1 } else { disagreements.append("\(name): expected \(wanted.sorted()), found \(found.sorted())") }
            if entry.temporary {
                temporaryExpected += 1
                if !analysis.reports.isEmpty && analysis.reports.allSatisfy({ $0.bounceClass == .delayed || $0.bounceClass == .transient }) {
                    temporaryAgreed += 1
                } else {
                    disagreements.append("\(name): temporary, read as \(analysis.reports.map(\.bounceClass.rawValue))")
                }
            }
        }

        // Then the failed addresses agree on nearly every message, and the figure is reported
        let agreement = Double(agreed) / Double(withAddresses)
        print("bounce corpus (flufl.bounce 6.0.0): \(expected.count) messages, \(withAddresses) with failed addresses; "
              + "same addresses found in \(agreed) (\(String(format: "%.1f", agreement * 100))%); "
              + "temporary recognized in \(temporaryAgreed) of \(temporaryExpected); "
              + "addresses found in \(falseAlarms.count) of \(expected.count - withAddresses) messages that have none")
        for line in disagreements + falseAlarms { print("  differs: \(line)") }
        #expect(agreement >= 0.95, "agreement \(agreement): \(disagreements)")
        #expect(temporaryAgreed == temporaryExpected)
        #expect(falseAlarms.isEmpty)
    }
}
