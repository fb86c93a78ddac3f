package main

import (
	"encoding/json"

	"github.com/rdbtool/rdbtool/pkg/aof"
)

// The JSON form of aof.Check's result in verify's output (docs/cli.md,
// "JSON output"): the schema is the command line's, so it lives here, and
// pkg/aof's types stay free of it.

// MarshalJSON writes the file with its check in verify's schema.
func (f aofFileResult) MarshalJSON() ([]byte, error) {
	type fields aofFileResult // without this method
	return json.Marshal(struct {
		fields
		Check *checkJSON `json:"check,omitempty"`
	}{fields(f), checkJSONOf(f.Check)})
}

type checkJSON struct {
	OK             bool              `json:"ok"`
	Start          int64             `json:"start"`
	End            int64             `json:"end"`
	Commands       int64             `json:"commands"`
	Annotations    int64             `json:"annotations"`
	Timestamps     int64             `json:"timestamps"`
	Transactions   int64             `json:"transactions"`
	FirstTimestamp int64             `json:"first_timestamp,omitempty"`
	LastTimestamp  int64             `json:"last_timestamp,omitempty"`
	MultiBalanced  bool              `json:"multi_balanced"`
	LastCommandEnd int64             `json:"last_command_end"`
	RepairOffset   int64             `json:"repair_offset"`
	Problem        *checkProblemJSON `json:"problem,omitempty"`
	TimestampCut   *timestampCutJSON `json:"timestamp_cut,omitempty"`
}

type checkProblemJSON struct {
	Offset               int64  `json:"offset"`
	Record               int64  `json:"record"`
	Kind                 string `json:"kind"`
	Op                   string `json:"op"`
	Detail               string `json:"detail"`
	TornTail             bool   `json:"torn_tail"`
	ServerTruncateOffset int64  `json:"server_truncate_offset,omitempty"`
	MultiStart           int64  `json:"multi_start"`
	LostBytes            int64  `json:"lost_bytes"`
	LostCommands         int64  `json:"lost_commands"`
	CommandsAfter        int64  `json:"commands_after,omitempty"`
}

type timestampCutJSON struct {
	ToTimestamp    int64 `json:"to_timestamp"`
	Offset         int64 `json:"offset"`
	Timestamp      int64 `json:"timestamp"`
	CommandsBefore int64 `json:"commands_before"`
	InsideMulti    bool  `json:"inside_multi"`
	LostBytes      int64 `json:"lost_bytes"`
}

func checkJSONOf(c *aof.CheckResult) *checkJSON {
	if c == nil {
		return nil
	}
	j := &checkJSON{OK: c.OK, Start: c.Start, End: c.End, Commands: c.Commands, Annotations: c.Annotations,
		Timestamps: c.Timestamps, Transactions: c.Transactions, FirstTimestamp: c.FirstTimestamp,
		LastTimestamp: c.LastTimestamp, MultiBalanced: c.MultiBalanced, LastCommandEnd: c.LastCommandEnd,
		RepairOffset: c.RepairOffset}
	if p := c.Problem; p != nil {
		j.Problem = &checkProblemJSON{Offset: p.Offset, Record: p.Record, Kind: p.Kind, Op: p.Op, Detail: p.Detail,
			TornTail: p.TornTail, ServerTruncateOffset: p.ServerTruncateOffset, MultiStart: p.MultiStart,
			LostBytes: p.LostBytes, LostCommands: p.LostCommands, CommandsAfter: p.CommandsAfter}
	}
	if t := c.TimestampCut; t != nil {
		j.TimestampCut = &timestampCutJSON{ToTimestamp: t.ToTimestamp, Offset: t.Offset, Timestamp: t.Timestamp,
			CommandsBefore: t.CommandsBefore, InsideMulti: t.InsideMulti, LostBytes: t.LostBytes}
	}
	return j
}
