import Foundation

/// Checks a Mustache template against a ``TemplateSchema`` before it is ever rendered.
///
/// swift-mustache renders an unknown name as an empty string; a letter must never go out with a gap,
/// so every tag is resolved here the way Mustache would resolve it, with the line it stands on.
/// Partials, inheritance, pragmas and delimiter changes are refused: a letter template stands alone
/// and can never pull in another file.
struct TemplateChecker {
    let file: String
    let schema: TemplateSchema

    private struct Section {
        let name: String
        let line: Int
        let pushesScope: Bool
    }

    /// Sections nested deeper than this are refused: no letter needs them, and the renderer recurses per level.
    static let maxNesting = 50
    /// A letter template is at most this large (a letter is a few kilobytes).
    static let maxBytes = 1 << 20
    /// The renderer's parser takes time in the square of a piece's size: a template is compiled in pieces of
    /// about this size, cut outside sections, and one outermost section may span at most `maxSectionBytes`
    /// and hold at most `maxSectionTags` tags.
    static let pieceBytes = 2048
    static let maxSectionBytes = 64 << 10
    static let maxSectionTags = 500

    /// - Returns: every problem found, each naming `file:line`.
    func problems(in source: String) -> [InputIssue] { check(source).issues }

    /// Checks `source`.
    /// - Returns: every problem found, each naming `file:line`; and where the source may be cut into pieces
    ///   that render, one after the other, as the whole does (byte offsets, outside any section and tag, at a
    ///   line start or between two ASCII letters or digits, so that no tag's "standalone" line changes).
    func check(_ source: String) -> (issues: [InputIssue], cuts: [Int]) {
        var issues: [InputIssue] = []
        var scopes: [TemplateSchema] = [schema]
        var sections: [Section] = []
        let bytes = Array(source.utf8)
        var cuts: [Int] = []

        func report(_ message: String, at line: Int) {
            issues.append(InputIssue(InputLocation(file: file, line: line), message))
        }
        if bytes.count > Self.maxBytes {
            report("is \(bytes.count) bytes; a letter template is at most \(Self.maxBytes) bytes (1 MB)", at: 1)
            return (issues, [])
        }
        issues += controlCharacters(in: bytes)
        var outermost: (start: Int, tags: Int)?
        var listedNames = false
        func isWordByte(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        }
        /// Cut points in plain text outside any section, from `start` to `end`.
        func cut(from start: Int, to end: Int) {
            var position = max(start, 1)
            while position < end {
                if position - (cuts.last ?? 0) >= Self.pieceBytes
                    && (bytes[position - 1] == 0x0A || (isWordByte(bytes[position - 1]) && isWordByte(bytes[position]))) {
                    cuts.append(position)
                }
                position += 1
            }
        }

        // One pass over the bytes: each tag is found after the previous one, and lines are counted as the scan moves.
        var line = 1
        var counted = 0
        func advanceLine(to index: Int) {
            while counted < index {
                if bytes[counted] == 0x0A { line += 1 }
                counted += 1
            }
        }
        var index = 0
        var previousTagIsVariable = false
        while let open = Self.find([0x7B, 0x7B], in: bytes, from: index) {
            let triple = open + 2 < bytes.count && bytes[open + 2] == 0x7B
            let tagIsVariable = triple || !(open + 2 < bytes.count && "#^/!><$=%".utf8.contains(bytes[open + 2]))
            if sections.isEmpty {
                cut(from: index, to: open)
                // Right before this tag too: at a line's start, or between two variable tags (which are never
                // standalone, so no line's white space depends on them).
                if open - (cuts.last ?? 0) >= Self.pieceBytes && open > 0
                    && (bytes[open - 1] == 0x0A || (open == index && previousTagIsVariable && tagIsVariable)) {
                    cuts.append(open)
                }
            }
            previousTagIsVariable = tagIsVariable
            advanceLine(to: open)
            let tagLine = line
            let closer: [UInt8] = triple ? [0x7D, 0x7D, 0x7D] : [0x7D, 0x7D]
            let contentStart = open + (triple ? 3 : 2)
            guard let close = Self.find(closer, in: bytes, from: contentStart) else {
                report("a tag opened here is never closed with \(triple ? "}}}" : "}}")", at: tagLine)
                return (issues, [])
            }
            index = close + closer.count
            let content = String(decoding: bytes[contentStart..<close], as: UTF8.self)
            let sigil = triple ? "&" : content.first.map(String.init) ?? ""
            let body = ["#", "^", "/", "!", "&", ">", "<", "$", "=", "%"].contains(sigil) && !triple ? Substring(content).dropFirst() : Substring(content)
            let name = body.trimmingCharacters(in: .whitespaces)
            if let section = outermost {
                outermost!.tags += 1
                if section.tags + 1 > Self.maxSectionTags {
                    report("the section opened on line \(sections[0].line) holds more than \(Self.maxSectionTags) tags; split it", at: tagLine)
                    return (issues, [])
                }
            }
            switch sigil {
            case "!":
                continue
            case ">", "<", "$":
                report("partials and template inheritance are not allowed: a letter template cannot include other files", at: tagLine)
                continue
            case "=":
                report("changing the tag delimiters is not supported", at: tagLine)
                continue
            case "%":
                report("pragmas are not supported", at: tagLine)
                continue
            default:
                break
            }
            guard isValidName(name) else {
                report(name.isEmpty ? "empty tag" : "\"\(name.prefix(80))\" is not a variable name (transforms and spaces are not supported)", at: tagLine)
                continue
            }
            if sigil == "/" {
                guard let innermost = sections.last else {
                    report("{{/\(name)}} closes a section that was never opened", at: tagLine)
                    continue
                }
                if innermost.name != name {
                    report("{{/\(name)}} does not match {{#\(innermost.name)}} opened on line \(innermost.line)", at: tagLine)
                    continue
                }
                sections.removeLast()
                if innermost.pushesScope { scopes.removeLast() }
                if sections.isEmpty, let section = outermost {
                    outermost = nil
                    if index - section.start > Self.maxSectionBytes {
                        report("the section {{#\(name)}} opened on line \(innermost.line) spans more than \(Self.maxSectionBytes / 1024) KB; split it", at: tagLine)
                        return (issues, [])
                    }
                }
                continue
            }
            if (sigil == "#" || sigil == "^") && sections.count >= Self.maxNesting {
                report("sections are nested more than \(Self.maxNesting) deep", at: tagLine)
                return (issues, [])
            }
            if (sigil == "#" || sigil == "^") && sections.isEmpty { outermost = (open, 0) }
            guard let resolved = resolve(name, in: scopes) else {
                // The list once, with the first unknown name: a file of many would repeat it on every line.
                report("unknown variable \(name)" + (listedNames ? "" : "; the variables are \(TemplateSchema.letter.names.joined(separator: ", "))"), at: tagLine)
                listedNames = true
                if sigil == "#" || sigil == "^" { sections.append(Section(name: name, line: tagLine, pushesScope: false)) }
                continue
            }
            switch sigil {
            case "#":
                let scope: TemplateSchema? = switch resolved {
                case .list(let element): element
                case .object, .text: resolved
                case .flag: nil
                }
                if let scope { scopes.append(scope) }
                sections.append(Section(name: name, line: tagLine, pushesScope: scope != nil))
            case "^":
                sections.append(Section(name: name, line: tagLine, pushesScope: false))
            default:
                switch resolved {
                case .text: break
                case .flag: report("\(name) is true or false: use it as a section, {{#\(name)}}…{{/\(name)}}", at: tagLine)
                case .list: report("\(name) is a list: use it as a section, {{#\(name)}}…{{/\(name)}}", at: tagLine)
                case .object: report("\(name) is a group of values: name one of them, such as \(name).\(firstChild(of: resolved))", at: tagLine)
                }
            }
        }
        for section in sections.reversed() {
            report("section {{#\(section.name)}} is never closed with {{/\(section.name)}}", at: section.line)
        }
        if sections.isEmpty { cut(from: index, to: bytes.count) }
        return (issues, issues.isEmpty ? cuts : [])
    }

    /// The first index of `needle` in `bytes` at or after `start`.
    private static func find(_ needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        var index = start
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == needle[0] && (needle.count < 2 || bytes[index + 1] == needle[1]) && (needle.count < 3 || bytes[index + 2] == needle[2]) {
                return index
            }
            index += 1
        }
        return nil
    }

    /// Lines holding a NUL or another control character (tab, CR and LF are text): a letter must never be cut
    /// or carry invisible bytes. At most ten are listed.
    private func controlCharacters(in bytes: [UInt8]) -> [InputIssue] {
        var issues: [InputIssue] = []
        var line = 1
        var lastReported = 0
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A { line += 1; continue }
            // C0 controls and DEL; C1 controls are U+0080…U+009F, encoded 0xC2 0x80…0x9F.
            let c0 = (byte < 0x20 && byte != 0x09 && byte != 0x0D) || byte == 0x7F
            let c1 = byte == 0xC2 && index + 1 < bytes.count && (0x80...0x9F).contains(bytes[index + 1])
            guard (c0 || c1) && line != lastReported else { continue }
            let code = c1 ? Int(bytes[index + 1]) : Int(byte)
            issues.append(InputIssue(InputLocation(file: file, line: line),
                                     "holds the control character U+\(String(format: "%04X", code))\(code == 0 ? " (NUL)" : ""); only tab and line breaks are allowed"))
            lastReported = line
            if issues.count == 10 { break }
        }
        return issues
    }

    /// Resolves a dotted name as Mustache does: the first part is looked up from the innermost scope outwards.
    private func resolve(_ name: String, in scopes: [TemplateSchema]) -> TemplateSchema? {
        if name == "." { return scopes.last }
        let parts = name.split(separator: ".")
        for scope in scopes.reversed() {
            guard var found = scope.child(parts[0]) else { continue }
            for part in parts.dropFirst() {
                guard let next = found.child(part) else { return nil }
                found = next
            }
            return found
        }
        return nil
    }

    private func isValidName(_ name: String) -> Bool {
        if name == "." { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { part in
            guard let first = part.first, first.isASCII, first.isLetter || first == "_" else { return false }
            return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
    }

    private func firstChild(of schema: TemplateSchema) -> String {
        if case .object(let children) = schema { return children.keys.sorted().first ?? "name" }
        return "name"
    }
}
