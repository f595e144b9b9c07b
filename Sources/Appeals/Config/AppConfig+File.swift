import Foundation

extension AppConfig {
    /// Reads a config file strictly: unknown keys, wrong types and invalid values are errors naming the key.
    /// - Throws: ``AppealsError/invalidInput(_:)``.
    public static func load(path: String) throws(AppealsError) -> AppConfig {
        let data = try RegularFile.contents(path, doing: "config file is missing or unreadable")
        var json = try JSONObjectReader(file: path, data: data)
        var config = AppConfig()
        if let database = json.string("database") { config.database = database }
        if let env = json.string("databasePasswordEnv") { config.databasePasswordEnv = env }
        json.object("smtp") { smtp in
            if smtp.object["password"] != nil {
                smtp.fail("password", "the SMTP password is never stored in a file: put it in the environment variable named by smtp.passwordEnv")
            }
            if let url = smtp.string("url") {
                config.smtp.url = MailEndpoint.lowercasingScheme(url)
                do throws(AppealsError) {
                    _ = try MailEndpoint(url: url)
                } catch {
                    smtp.fail("url", error.issues.first?.message ?? error.description)
                }
            }
            if let security = smtp.string("security") {
                if let value = Security(rawValue: security) { config.smtp.security = value } else {
                    smtp.fail("security", "\"\(security)\" is not starttls or none")
                }
                if security == "none", case .smtp(_, _, implicitTLS: true)? = try? config.smtp.endpoint() {
                    smtp.fail("security", "\"none\" contradicts smtps:// (TLS from the first byte): remove \"security\", or use smtp:// for a relay on this machine")
                }
            }
            config.smtp.username = smtp.string("username")
            if let env = smtp.string("passwordEnv") { config.smtp.passwordEnv = env }
            config.smtp.caFile = smtp.string("caFile")
            if let timeout = smtp.int("timeoutSeconds") {
                config.smtp.timeoutSeconds = timeout
                if timeout < 1 { smtp.fail("timeoutSeconds", "must be at least 1") }
            }
            if let connections = smtp.int("connections") {
                config.smtp.connections = connections
                if !(1...32).contains(connections) { smtp.fail("connections", "must be between 1 and 32") }
            }
            _ = smtp.string("password")
        }
        json.object("sender") { sender in
            if let name = sender.string("name") {
                config.sender.name = name
                if let problem = TextRules.singleLineProblem(name) { sender.fail("name", problem) }
            }
            if let address = sender.string("address") {
                config.sender.address = address
                if let problem = EmailAddress.problem(with: address) { sender.fail("address", problem) }
            }
            if let envelopeFrom = sender.string("envelopeFrom") {
                config.sender.envelopeFrom = envelopeFrom
                if let problem = EmailAddress.problem(with: envelopeFrom) { sender.fail("envelopeFrom", problem) }
            }
            if let bounceAddress = sender.string("bounceAddress") {
                config.sender.bounceAddress = bounceAddress
                if let problem = EmailAddress.problem(with: bounceAddress) {
                    sender.fail("bounceAddress", problem)
                } else if bounceAddress.split(separator: "@").first?.contains("+") == true {
                    sender.fail("bounceAddress", "must not contain '+': each letter's token is added after one")
                }
            }
            if let copy = sender.bool("copyToSupporter") { config.sender.copyToSupporter = copy }
        }
        json.object("limits") { limits in
            // Bounded above too: a back-off of centuries would store a date the database cannot hold.
            let keys: [(String, WritableKeyPath<Limits, Int>, ClosedRange<Int>)] = [
                ("messagesPerSecond", \.messagesPerSecond, 0...100_000), ("perTargetPerHour", \.perTargetPerHour, 0...100_000),
                ("maxAttempts", \.maxAttempts, 1...100), ("retryBaseSeconds", \.retryBaseSeconds, 1...86_400),
                ("retryMaxSeconds", \.retryMaxSeconds, 1...2_592_000),
            ]
            for (key, path, range) in keys {
                guard let value = limits.int(key) else { continue }
                config.limits[keyPath: path] = value
                if !range.contains(value) { limits.fail(key, "must be from \(range.lowerBound) to \(range.upperBound)") }
            }
            if config.limits.retryBaseSeconds > config.limits.retryMaxSeconds {
                limits.fail("retryMaxSeconds", "must not be less than retryBaseSeconds")
            }
        }
        json.object("web") { web in
            if let listen = web.string("listen") {
                config.web.listen = listen
                if let problem = Web.listenProblem(listen) { web.fail("listen", problem) }
            }
            if let baseURL = web.string("baseURL") {
                config.web.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
                if let problem = Web.baseURLProblem(baseURL) { web.fail("baseURL", problem) }
            } else {
                // Without a public address, the links point where the server listens.
                config.web.baseURL = "http://" + config.web.listen
            }
            if let env = web.string("adminSecretEnv") {
                config.web.adminSecretEnv = env
                if env.isEmpty { web.fail("adminSecretEnv", "must name an environment variable") }
            }
            let keys: [(String, WritableKeyPath<Web, Int>, ClosedRange<Int>)] = [
                ("confirmationHours", \.confirmationHours, 1...720), ("formPostsPerAddress", \.formPostsPerAddress, 0...1_000_000),
                ("emailsPerAddressPerHour", \.emailsPerAddressPerHour, 0...1000), ("loginsPerAddress", \.loginsPerAddress, 1...1000),
            ]
            for (key, path, range) in keys {
                guard let value = web.int(key) else { continue }
                config.web[keyPath: path] = value
                if !range.contains(value) { web.fail(key, "must be from \(range.lowerBound) to \(range.upperBound)") }
            }
        }
        json.finish()
        if !json.issues.isEmpty { throw .invalidInput(json.issues) }
        // Relative paths mean "beside the config file", so a cron job works from any folder.
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        if !config.database.hasPrefix("/") && !config.usesPostgres {
            config.database = folder.appendingPathComponent(config.database).path
        }
        if let caFile = config.smtp.caFile, !caFile.hasPrefix("/") {
            config.smtp.caFile = folder.appendingPathComponent(caFile).path
        }
        // A relative outbox is beside the config file, like the database.
        if case .folder(let outbox)? = try? config.smtp.endpoint(), !outbox.hasPrefix("/") {
            config.smtp.url = "file://" + folder.appendingPathComponent(outbox).path
        }
        return config
    }
}

extension AppConfig {
    /// The config a command runs with: `path` if given (it must exist), else `./appeal.json` if present,
    /// else the defaults; `database` overrides the config's database.
    public static func resolve(path: String?, database: String?) throws(AppealsError) -> AppConfig {
        var config: AppConfig
        var info = stat()
        if let path {
            config = try load(path: path)
        } else if lstat("appeal.json", &info) == 0 {
            // Whatever is there, a link to nowhere too, is the config: never the defaults in its place.
            config = try load(path: "appeal.json")
        } else {
            config = AppConfig()
        }
        if let database { config.database = database }
        return config
    }
}
