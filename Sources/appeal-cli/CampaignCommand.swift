import Appeals
import AppealsPostgres
import ArgumentParser
import Foundation

struct CampaignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign", abstract: "Create, list, show, open, pause or close campaigns.",
        subcommands: [Create.self, Update.self, List.self, Show.self, Open.self, Pause.self, Close.self])

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read an existing campaign's folder again, check all of it, apply it, and write its unsent letters again.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign folder.") var folder: String

        func run() async throws {
            let folder = folder
            let update = try await options.onStore(sqlite: { database throws(AppealsError) in try database.updateCampaign(try CampaignFolder(path: folder)) },
                                                   postgres: { store throws(AppealsError) in try await store.updateCampaign(try CampaignFolder(path: folder)) })
            if update.isEmpty { print("nothing changed in the campaign's fields, templates or targets") }
            if !update.changedKeys.isEmpty { print("changed in campaign.json: \(update.changedKeys.joined(separator: ", "))") }
            if !update.changedTemplates.isEmpty { print("templates changed for: \(update.changedTemplates.joined(separator: ", "))") }
            if !update.targetsAdded.isEmpty { print("targets added: \(update.targetsAdded.joined(separator: ", "))") }
            if !update.targetsChanged.isEmpty { print("targets changed: \(update.targetsChanged.joined(separator: ", "))") }
            if !update.targetsNotInFile.isEmpty {
                print("no longer in targets.csv, kept until `target remove`: \(update.targetsNotInFile.joined(separator: ", "))")
            }
            print("\(plural(update.lettersRewritten, "unsent letter")) written again; sent letters are never changed")
            if let status = update.statusInFile {
                print("note: campaign.json says \(status.rawValue); the campaign's status is set by campaign open, pause and close, and was left as it is")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read campaign.json, the templates and targets.csv from FOLDER, check all of it, and store the campaign.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign folder.") var folder: String

        func run() async throws {
            let folder = folder
            let (campaign, targets) = try await options.onStore(sqlite: { database throws(AppealsError) in
                let campaign = try database.createCampaign(try CampaignFolder(path: folder))
                return (campaign, try database.targets(ofCampaign: campaign.slug))
            }, postgres: { store throws(AppealsError) in
                let campaign = try await store.createCampaign(try CampaignFolder(path: folder))
                return (campaign, try await store.targets(ofCampaign: campaign.slug))
            })
            print("created campaign \(campaign.slug) (\(campaign.status.rawValue)): \(plural(targets.count, "target")), languages \(campaign.languages.joined(separator: ", "))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the campaigns.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let campaigns = try await options.onStore(sqlite: { database throws(AppealsError) in try database.campaigns() },
                                                      postgres: { store throws(AppealsError) in try await store.campaigns() })
            if campaigns.isEmpty { print("no campaigns") }
            for campaign in campaigns {
                print("\(campaign.slug)\t\(campaign.status.rawValue)\t\(campaign.title)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a campaign.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign's slug.") var slug: String

        func run() async throws {
            let slug = slug
            let (campaign, report) = try await options.onStore(sqlite: { database throws(AppealsError) in
                (try database.campaign(slug), try database.report(campaign: slug))
            }, postgres: { store throws(AppealsError) in
                (try await store.campaign(slug), try await store.report(campaign: slug))
            })
            print("""
                \(campaign.title)
                slug:          \(campaign.slug)
                organization:  \(campaign.organization)
                status:        \(campaign.status.rawValue)
                languages:     \(campaign.languages.joined(separator: ", "))
                deadline:      \(campaign.deadline ?? "none")
                sending hours: \(campaign.sendingHours ?? "any time")
                targets:       \(report.targets.count)
                supporters:    \(report.supporters)

                \(campaign.summary)

                Demands:
                """)
            for demand in campaign.demands { print("  - \(demand)") }
        }
    }

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a campaign active: its letters are queued and sent.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign's slug.") var slug: String
        func run() async throws { try await CampaignCommand.setStatus(.active, slug, options) }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pause a campaign: letters are queued but not sent.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign's slug.") var slug: String
        func run() async throws { try await CampaignCommand.setStatus(.paused, slug, options) }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a campaign: nothing more is queued or sent.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign's slug.") var slug: String
        func run() async throws { try await CampaignCommand.setStatus(.closed, slug, options) }
    }

    static func setStatus(_ status: CampaignStatus, _ slug: String, _ options: GlobalOptions) async throws {
        let campaign = try await options.onStore(sqlite: { database throws(AppealsError) in try database.setStatus(status, ofCampaign: slug) },
                                                 postgres: { store throws(AppealsError) in try await store.setStatus(status, ofCampaign: slug) })
        print("campaign \(campaign.slug) is \(campaign.status.rawValue)")
    }
}
