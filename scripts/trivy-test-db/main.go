// Command trivy-test-db writes a small Trivy vulnerability database (schema 2) holding one
// real Debian advisory, so the image scan can be tested offline against the real scanner.
//
//	go run . -dir CACHE_DIR/db
//
// The advisory is CVE-2023-45853 (integer overflow in zlib's MiniZip, CVSS 9.8, CRITICAL
// by NVD) for the Debian source package "zlib", which the workorders image carries as
// zlib1g 1:1.2.13.dfsg-1. Upstream fixed it in zlib 1.3.1, which Debian ships in trixie as
// 1:1.3.dfsg+really1.3.1-1; Debian's tracker leaves bookworm unfixed (minizip is not built
// there). This database records the trixie version as the fix under "debian 12", so Trivy
// reports the installed package as affected with a fixed version above it.
//
// The buckets are written with trivy-db's own functions, the same way its Debian source
// writes them: the advisory under "debian 12" -> source package -> CVE, the severity and
// details under "vulnerability", and the data source under "data-source".
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
)

const (
	platform  = "debian 12"
	srcPkg    = "zlib"
	vulnID    = "CVE-2023-45853"
	fixedIn   = "1:1.3.dfsg+really1.3.1-1"
	validDays = 3650
)

func write(dir string) error {
	if err := db.Init(dir); err != nil {
		return err
	}
	defer db.Close()
	dbc := db.Config{}
	published := time.Date(2023, 10, 14, 2, 15, 9, 0, time.UTC)
	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		advisory := types.Advisory{FixedVersion: fixedIn}
		if err := dbc.PutAdvisory(tx, []string{platform, srcPkg}, vulnID, &advisory); err != nil {
			return err
		}
		vuln := types.Vulnerability{
			Title: "zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_64",
			Description: "MiniZip in zlib through 1.3 has an integer overflow and resultant " +
				"heap-based buffer overflow in zipOpenNewFileInZip4_64 via a long filename, " +
				"comment, or extra field.",
			Severity:       "CRITICAL",
			CweIDs:         []string{"CWE-190"},
			VendorSeverity: types.VendorSeverity{vulnerability.NVD: types.SeverityCritical},
			CVSS: types.VendorCVSS{vulnerability.NVD: types.CVSS{
				V3Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
				V3Score:  9.8,
			}},
			References: []string{
				"https://security-tracker.debian.org/tracker/CVE-2023-45853",
				"https://github.com/madler/zlib/pull/843",
			},
			PublishedDate: &published,
		}
		if err := dbc.PutVulnerability(tx, vulnID, vuln); err != nil {
			return err
		}
		return dbc.PutDataSource(tx, platform, types.DataSource{
			ID:   vulnerability.Debian,
			Name: "Debian Security Tracker",
			URL:  "https://salsa.debian.org/security-tracker-team/security-tracker",
		})
	})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return metadata.NewClient(dir).Update(metadata.Metadata{
		Version:    db.SchemaVersion,
		NextUpdate: now.AddDate(0, 0, validDays),
		UpdatedAt:  now,
	})
}

func main() {
	dir := flag.String("dir", "", "directory to write trivy.db and metadata.json into (CACHE/db)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: trivy-test-db -dir CACHE_DIR/db")
		os.Exit(2)
	}
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "trivy-test-db:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "trivy-test-db: %s %s (%s) written to %s\n", platform, srcPkg, vulnID, *dir)
}
