import Foundation
import Testing
import TestSupport
@testable import Appeals

@Suite("CSV against hostile files")
struct CSVFuzzTests {
    static let alphabet: [[UInt8]] = [
        Array(",".utf8), Array("\"".utf8), Array("\r".utf8), Array("\n".utf8), Array("a".utf8), Array("name".utf8), Array("email".utf8),
        Array("x@example.org".utf8), [0xFF], [0xC3], [0xC3, 0xA9], [0x00], [0xEF, 0xBB, 0xBF], Array("🕊️".utf8), Array(" ".utf8),
    ]

    @Test("2,000 random files: each is read or refused with a line number, never a crash")
    func randomBytes() {
        var random = SeededRandom(seed: 4180)
        var refused = 0
        for _ in 0..<2000 {
            var bytes = Array("name,email\n".utf8)
            for _ in 0..<Int.random(in: 0...200, using: &random) { bytes += Self.alphabet.randomElement(using: &random)! }
            do {
                let table = try CSVTable(file: "fuzz.csv", bytes: bytes, known: Supporter.csvColumns, required: Supporter.csvRequiredColumns)
                #expect(table.rows.allSatisfy { $0.line >= 2 })
            } catch {
                refused += 1
                if case .invalidInput(let issues) = error {
                    #expect(!issues.isEmpty && issues.allSatisfy { ($0.location.line ?? 0) >= 1 && $0.location.file == "fuzz.csv" })
                } else {
                    Issue.record("unexpected error \(error)")
                }
            }
        }
        #expect(refused > 100 && refused < 2000)
    }

    @Test("whatever fields are written, they are read back the same")
    func roundTrip() throws {
        var random = SeededRandom(seed: 2045)
        for _ in 0..<500 {
            let records = (0..<Int.random(in: 1...5, using: &random)).map { _ in
                (0..<3).map { _ in HostileText.make(&random, maxPieces: 6).replacingOccurrences(of: "\0", with: "") }
            }
            // A record of empty fields would be a blank line, which is not a record.
            let kept = records.filter { $0.contains { !$0.isEmpty } }
            let text = kept.map(CSVWriter.line).joined()
            let read = try CSVReader(file: "t.csv").records(from: Array(text.utf8))
            #expect(read.map(\.fields) == kept)
        }
    }

    @Test("a 10 MB field and a million columns are refused early with the line")
    func hugeInputs() {
        let bigField = Array("name,email\nA,\"".utf8) + [UInt8](repeating: UInt8(ascii: "y"), count: 10_000_000) + Array("\"\n".utf8)
        let found = issues { _ = try CSVTable(file: "big.csv", bytes: bigField, known: Supporter.csvColumns, required: Supporter.csvRequiredColumns) }
        #expect(found.first?.location.line == 2 && found.first?.message.contains("longer than 65536 bytes") == true)
        let wide = Array(String(repeating: "name,", count: 1_000_000).utf8) + Array("email\n".utf8)
        let tooWide = issues { _ = try CSVTable(file: "wide.csv", bytes: wide, known: Supporter.csvColumns, required: Supporter.csvRequiredColumns) }
        #expect(tooWide.first?.location.line == 1 && tooWide.first?.message.contains("more than 64 fields") == true)
    }
}
