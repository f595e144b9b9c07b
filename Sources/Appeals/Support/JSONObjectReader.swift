import Foundation

/// Reads a JSON object strictly: every key is known, every value has its type, and every problem
/// names the file, the line of the key and the key itself.
struct JSONObjectReader {
    let file: String
    let text: String
    let object: [String: Any]
    let prefix: String
    private(set) var issues: [InputIssue] = []
    private var seen: Set<String> = []

    /// - Throws: ``AppealsError/invalidInput(_:)`` when `data` is not a JSON object.
    init(file: String, data: Data) throws(AppealsError) {
        let text = String(decoding: data, as: UTF8.self)
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .invalid(InputLocation(file: file, line: Self.lineOfSyntaxError(error, in: text)), "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw .invalid(InputLocation(file: file, line: 1), "expected a JSON object { … }")
        }
        // JSONSerialization keeps the last of two equal keys without a word: one of them is a mistake.
        let duplicates = Self.duplicateKeys(in: Array(data))
        if !duplicates.isEmpty {
            throw .invalidInput(duplicates.map { InputIssue(InputLocation(file: file, line: $0.line, field: $0.key), "appears twice in the same object") })
        }
        self.init(file: file, text: text, object: object, prefix: "")
    }

    private init(file: String, text: String, object: [String: Any], prefix: String) {
        self.file = file
        self.text = text
        self.object = object
        self.prefix = prefix
    }

    /// The line of the first `"key":` in the file: good enough to point a person at it.
    func location(_ key: String) -> InputLocation {
        let pattern = "\"\(key)\""
        var line: Int?
        if let range = text.range(of: pattern) {
            line = text[..<range.lowerBound].count(where: \.isNewline) + 1
        }
        return InputLocation(file: file, line: line, field: prefix + key)
    }

    mutating func fail(_ key: String, _ message: String) {
        issues.append(InputIssue(location(key), message))
    }

    private mutating func value(_ key: String) -> Any? {
        seen.insert(key)
        guard let value = object[key], !(value is NSNull) else { return nil }
        return value
    }

    mutating func string(_ key: String, required: Bool = false) -> String? {
        guard let raw = value(key) else {
            if required { fail(key, "is required") }
            return nil
        }
        guard let string = raw as? String else {
            fail(key, "expected a string")
            return nil
        }
        if required && string.trimmingCharacters(in: .whitespaces).isEmpty { fail(key, "must not be empty") }
        return string
    }

    mutating func strings(_ key: String, required: Bool = false) -> [String]? {
        guard let raw = value(key) else {
            if required { fail(key, "is required") }
            return nil
        }
        guard let array = raw as? [Any], array.allSatisfy({ $0 is String }) else {
            fail(key, "expected a list of strings")
            return nil
        }
        return array.compactMap { $0 as? String }
    }

    /// A list of strings, or an object whose values are lists of strings: the list alone comes back under the key `""`.
    mutating func stringLists(_ key: String, required: Bool = false) -> [String: [String]]? {
        guard let raw = value(key) else {
            if required { fail(key, "is required") }
            return nil
        }
        if let array = raw as? [Any], array.allSatisfy({ $0 is String }) {
            return ["": array.compactMap { $0 as? String }]
        }
        if let object = raw as? [String: Any], object.values.allSatisfy({ ($0 as? [Any])?.allSatisfy { $0 is String } == true }) {
            return object.mapValues { ($0 as? [Any] ?? []).compactMap { $0 as? String } }
        }
        fail(key, "expected a list of strings, or an object of such lists by language (such as {\"en\": [...], \"de\": [...]})")
        return nil
    }

    mutating func int(_ key: String) -> Int? {
        guard let raw = value(key) else { return nil }
        guard let number = raw as? NSNumber, !Self.isBoolean(number), let int = raw as? Int else {
            fail(key, "expected a whole number")
            return nil
        }
        return int
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let raw = value(key) else { return nil }
        guard let number = raw as? NSNumber, Self.isBoolean(number) else {
            fail(key, "expected true or false")
            return nil
        }
        return number.boolValue
    }

    /// Foundation bridges JSON `true` and `1` alike to `NSNumber`; only the storage type tells them apart.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// Reads a nested object with `body`, gathering its problems into this reader's.
    mutating func object(_ key: String, _ body: (inout JSONObjectReader) -> Void) {
        guard let raw = value(key) else { return }
        guard let nested = raw as? [String: Any] else {
            fail(key, "expected an object { … }")
            return
        }
        var reader = JSONObjectReader(file: file, text: text, object: nested, prefix: prefix + key + ".")
        body(&reader)
        reader.finish()
        issues += reader.issues
    }

    /// Reports every key that was never asked for: a misspelt key must not be silently ignored.
    mutating func finish() {
        for key in object.keys.sorted() where !seen.contains(key) {
            fail(key, "unknown key")
        }
    }

    /// Keys written twice in one object, with their second line; `bytes` is valid JSON.
    static func duplicateKeys(in bytes: [UInt8]) -> [(key: String, line: Int)] {
        struct Frame {
            var isObject: Bool
            var keys: Set<String> = []
            var expectingKey: Bool
        }
        var stack: [Frame] = []
        var duplicates: [(key: String, line: Int)] = []
        var line = 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"): line += 1
            case UInt8(ascii: "{"): stack.append(Frame(isObject: true, expectingKey: true))
            case UInt8(ascii: "["): stack.append(Frame(isObject: false, expectingKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","): if stack.last?.isObject == true { stack[stack.count - 1].expectingKey = true }
            case UInt8(ascii: "\""):
                let start = index + 1
                index += 1
                while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if stack.last?.isObject == true && stack[stack.count - 1].expectingKey {
                    let raw = bytes[start..<min(index, bytes.count)]
                    let key = raw.contains(UInt8(ascii: "\\"))
                        ? (try? JSONSerialization.jsonObject(with: Data([UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")]), options: .fragmentsAllowed) as? String) ?? ""
                        : String(decoding: raw, as: UTF8.self)
                    if !stack[stack.count - 1].keys.insert(key).inserted { duplicates.append((key, line)) }
                    stack[stack.count - 1].expectingKey = false
                }
            default: break
            }
            index += 1
        }
        return duplicates
    }

    private static func lineOfSyntaxError(_ error: any Error, in text: String) -> Int {
        let description = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        guard let range = description.range(of: "character "),
              let offset = Int(description[range.upperBound...].prefix(while: \.isNumber))
        else { return 1 }
        let utf8 = Array(text.utf8.prefix(offset))
        return utf8.count(where: { $0 == UInt8(ascii: "\n") }) + 1
    }
}
