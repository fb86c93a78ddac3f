package rdb

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdbtool/rdbtool/internal/casefile"
)

// Data-driven reader cases live in testdata/reader/*.txt:
//
//	# comment
//	case NAME [strict]
//	hex bytes, spaces and newlines ignored, "# ..." comments allowed;
//	  {crc} is replaced by the CRC-64 of everything before it (8 bytes LE)
//	----
//	expected dump (see dumpText), up to a line "===="
//
// The dump is one line per record and element, so a failing case shows where the
// reader's view parts from the author's.

type ddCase struct {
	casefile.Case
	strict bool
	input  []byte
}

func parseDDFile(t testing.TB, path string) []ddCase {
	var out []ddCase
	for _, c := range casefile.Load(t, path) {
		dc := ddCase{Case: c, strict: slices.Contains(c.Options, "strict")}
		var hexText strings.Builder
		for _, l := range c.Input {
			line, _, _ := strings.Cut(l.Text, "#")
			hexText.WriteString(strings.Join(strings.Fields(line), ""))
		}
		for _, part := range strings.SplitAfter(hexText.String(), "{crc}") {
			b, err := hex.DecodeString(strings.TrimSuffix(part, "{crc}"))
			if err != nil {
				t.Fatalf("%s: case %s: bad hex: %v", path, c.Name, err)
			}
			dc.input = append(dc.input, b...)
			if strings.HasSuffix(part, "{crc}") {
				dc.input = binary.LittleEndian.AppendUint64(dc.input, CRC64(dc.input))
			}
		}
		out = append(out, dc)
	}
	return out
}

func TestDataDriven(t *testing.T) {
	files, _ := filepath.Glob("testdata/reader/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata/reader cases")
	}
	for _, path := range files {
		for _, c := range parseDDFile(t, path) {
			t.Run(filepath.Base(path)+"/"+c.Name, func(t *testing.T) {
				got := dumpText(bytes.NewReader(c.input), ReaderOptions{Strict: c.strict})
				if got != c.Want {
					t.Errorf("%s:%d\n--- got\n%s--- want\n%s", path, c.Line, got, c.Want)
				}
			})
		}
	}
}

// q renders bytes for dumps: Go-quoted.
func q(b []byte) string { return strconv.Quote(string(b)) }

// dumpText renders everything the Reader reports, one line per record/element.
func dumpText(in io.Reader, opts ReaderOptions) string {
	var out strings.Builder
	r := NewReader(in, opts)
	defer r.Close()
	h, err := r.Header()
	if err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
		return out.String()
	}
	fmt.Fprintf(&out, "header %s\n", h)
	for {
		e, err := r.Next()
		if err == io.EOF {
			st, _ := r.Checksum()
			fmt.Fprintf(&out, "eof %s\n", st)
			return out.String()
		}
		if err != nil {
			fmt.Fprintf(&out, "error: %v\n", err)
			return out.String()
		}
		switch e.Kind {
		case EntryAux:
			fmt.Fprintf(&out, "aux %s = %s\n", q(e.AuxName), q(e.AuxValue))
		case EntrySelectDB:
			fmt.Fprintf(&out, "selectdb %d\n", e.DB)
		case EntryResizeDB:
			fmt.Fprintf(&out, "resizedb %d %d\n", e.DBSize, e.ExpiresSize)
		case EntryFunction:
			fmt.Fprintf(&out, "function %s\n", q(e.Function))
		case EntryModuleAux:
			fmt.Fprintf(&out, "module_aux %s encver=%d when=%d raw=%x\n", e.Module.Name, e.Module.EncVer, e.Module.When, e.Module.Raw)
		case EntrySlotInfo:
			fmt.Fprintf(&out, "slot_info %d %d %d\n", e.Slot, e.SlotSize, e.SlotExpiresSize)
		case EntrySlotImport:
			fmt.Fprintf(&out, "slot_import %s %v\n", q(e.SlotImport.JobName), e.SlotImport.Ranges)
		case EntryKey:
			line := fmt.Sprintf("key db=%d %s %s", e.DB, q(e.Key), e.Type)
			if e.HasExpire {
				line += fmt.Sprintf(" expire=%d", e.ExpireAtMs)
			}
			if e.HasIdle {
				line += fmt.Sprintf(" idle=%d", e.IdleSeconds)
			}
			if e.HasFreq {
				line += fmt.Sprintf(" freq=%d", e.Freq)
			}
			if e.KeyMeta != nil {
				line += fmt.Sprintf(" keymeta=%x", e.KeyMeta)
			}
			out.WriteString(line + "\n")
			for {
				el, err := r.NextElem()
				if err == io.EOF {
					break
				}
				if err != nil {
					fmt.Fprintf(&out, "error: %v\n", err)
					return out.String()
				}
				out.WriteString("  " + elemText(el) + "\n")
			}
		}
	}
}

func score(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func elemText(el *Elem) string {
	switch el.Kind {
	case ElemString:
		return "string " + q(el.Member)
	case ElemMember:
		return "member " + q(el.Member)
	case ElemZMember:
		return "zmember " + q(el.Member) + " " + score(el.Score)
	case ElemField:
		s := "field " + q(el.Member) + " = " + q(el.Value)
		if el.ExpireAtMs != 0 {
			s += " expire=" + strconv.FormatInt(el.ExpireAtMs, 10)
		}
		return s
	case ElemStreamEntry:
		parts := make([]string, len(el.Fields))
		for i, f := range el.Fields {
			parts[i] = q(f)
		}
		return "entry " + el.ID.String() + " " + strings.Join(parts, " ")
	case ElemStreamMeta:
		m := el.Stream
		return fmt.Sprintf("stream length=%d last=%s first=%s maxdel=%s added=%d groups=%d", m.Length, m.LastID, m.FirstID, m.MaxDeletedID, m.EntriesAdded, m.GroupCount)
	case ElemStreamGroup:
		g := el.Group
		return fmt.Sprintf("group %s last=%s read=%d pel=%d", q(g.Name), g.LastDelivered, g.EntriesRead, g.PendingCount)
	case ElemStreamPending:
		p := el.Pending
		return fmt.Sprintf("  pending %s time=%d count=%d", p.ID, p.DeliveryTimeMs, p.DeliveryCount)
	case ElemStreamConsumer:
		c := el.Consumer
		return fmt.Sprintf("  consumer %s seen=%d active=%d pel=%d", q(c.Name), c.SeenTimeMs, c.ActiveTimeMs, c.PendingCount)
	case ElemStreamConsumerPending:
		return "    owns " + el.ID.String()
	case ElemStreamIDMPEntry:
		return fmt.Sprintf("idmp_entry %s %s %s", q(el.IDMPEntry.Producer), q(el.IDMPEntry.IID), el.IDMPEntry.ID)
	case ElemStreamIDMP:
		m := el.IDMP
		return fmt.Sprintf("idmp duration=%d max=%d producers=%d added=%d dups=%d", m.DurationSeconds, m.MaxEntries, m.Producers, m.IIDsAdded, m.IIDsDuplicates)
	case ElemModule:
		return fmt.Sprintf("module %s encver=%d raw=%x", el.Module.Name, el.Module.EncVer, el.Module.Raw)
	}
	return "?" + el.Kind.String()
}
