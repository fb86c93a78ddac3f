// Command duckdb answers one SQL query with DuckDB, as the DuckDB CLI does
// for `duckdb -csv -noheader -c SQL`: the tests use it to read what
// `rdbtool memory --format parquet` writes where no DuckDB CLI is packaged
// (Debian 12 has none). It is a module of its own so that rdbtool itself
// does not link DuckDB (cgo, tens of megabytes); .ci/run builds it.
package main

import (
	"database/sql"
	"encoding/csv"
	"flag"
	"fmt"
	"os"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	flag.Bool("csv", true, "print rows as CSV (the only output this command has)")
	noHeader := flag.Bool("noheader", false, "leave out the row of column names")
	query := flag.String("c", "", "run the SQL `QUERY` and exit")
	flag.Parse()
	if *query == "" || flag.NArg() > 1 {
		fmt.Fprintln(os.Stderr, "usage: duckdb -csv [-noheader] -c QUERY [DATABASE]")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *query, !*noHeader); err != nil {
		fmt.Fprintln(os.Stderr, "duckdb:", err)
		os.Exit(1)
	}
}

// run prints the rows of query against the database file db ("" for one in
// memory) as CSV.
func run(db, query string, header bool) error {
	conn, err := sql.Open("duckdb", db)
	if err != nil {
		return err
	}
	defer conn.Close()
	rows, err := conn.Query(query)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	w := csv.NewWriter(os.Stdout)
	if header {
		w.Write(cols)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	rec := make([]string, len(cols))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				rec[i] = "" // NULL prints as an empty field, as the CLI does
			case []byte:
				rec[i] = string(v)
			default:
				rec[i] = fmt.Sprint(v)
			}
		}
		w.Write(rec)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}
