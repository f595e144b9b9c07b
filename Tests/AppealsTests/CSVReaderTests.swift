import Testing
import TestSupport
@testable import Appeals

@Suite("RFC 4180 reader")
struct CSVReaderTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let input: String
        let records: [[String]]
        let lines: [Int]
    }

    static let valid: [Case] = [
        Case(description: "plain LF", input: "a,b\n1,2\n", records: [["a", "b"], ["1", "2"]], lines: [1, 2]),
        Case(description: "CRLF and no final newline", input: "a,b\r\n1,2", records: [["a", "b"], ["1", "2"]], lines: [1, 2]),
        Case(description: "quoted comma", input: "a,b\n\"x, y\",2\n", records: [["a", "b"], ["x, y", "2"]], lines: [1, 2]),
        Case(description: "doubled quotes", input: "a\n\"say \"\"hi\"\"\"\n", records: [["a"], ["say \"hi\""]], lines: [1, 2]),
        Case(description: "newline inside quotes moves the next record's line",
             input: "a,b\n\"one\ntwo\",2\n3,4\n", records: [["a", "b"], ["one\ntwo", "2"], ["3", "4"]], lines: [1, 2, 4]),
        Case(description: "blank lines are skipped", input: "a\n\n1\n\n", records: [["a"], ["1"]], lines: [1, 3]),
        Case(description: "empty fields", input: "a,b,c\n,,\n", records: [["a", "b", "c"], ["", "", ""]], lines: [1, 2]),
        Case(description: "empty quoted field", input: "a,b\n\"\",x\n", records: [["a", "b"], ["", "x"]], lines: [1, 2]),
        Case(description: "UTF-8", input: "name\nJürgen Müller\n", records: [["name"], ["Jürgen Müller"]], lines: [1, 2]),
    ]

    @Test("parses valid input", arguments: valid)
    func parsesValid(_ testCase: Case) throws {
        let records = try CSVReader(file: "t.csv").records(from: Array(testCase.input.utf8))
        #expect(records.map(\.fields) == testCase.records)
        #expect(records.map(\.line) == testCase.lines)
    }

    @Test("a byte-order mark is not part of the first column")
    func stripsBOM() throws {
        let records = try CSVReader(file: "t.csv").records(from: [0xEF, 0xBB, 0xBF] + Array("name,email\n".utf8))
        #expect(records.first?.fields == ["name", "email"])
    }

    static let invalid: [(String, [UInt8], Int, String)] = [
        ("unterminated quote", Array("a\n\"open\nstill open\n".utf8), 2, "never closed"),
        ("quote inside unquoted field", Array("a\nab\"c\n".utf8), 2, "quote inside unquoted"),
        ("text after closing quote", Array("a\n\"x\"y\n".utf8), 2, "after a closing quote"),
        ("invalid UTF-8", Array("a\nok\n".utf8) + [0xFF, 0xFE, 0x0A], 3, "is not UTF-8"),
    ]

    @Test("rejects malformed input with the line", arguments: invalid)
    func rejectsInvalid(_ name: String, _ bytes: [UInt8], _ line: Int, _ fragment: String) {
        let found = issues { _ = try CSVReader(file: "t.csv").records(from: bytes) }
        #expect(found.count == 1, "\(name)")
        #expect(found.first?.location.line == line, "\(name)")
        #expect(found.first?.message.contains(fragment) == true, "\(name): \(found)")
    }

    @Test("limits hold against hostile files before memory is spent")
    func limits() {
        let longField = Array("a\n".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 70_000)
        #expect(issues { _ = try CSVReader(file: "t.csv").records(from: longField) }.first?.message.contains("longer than") == true)
        let wide = Array(String(repeating: "a,", count: 100_000).utf8)
        #expect(issues { _ = try CSVReader(file: "t.csv").records(from: wide) }.first?.message.contains("more than 64 fields") == true)
    }
}
