"""Reading tshark's JSON output (-T json) of the pop3 plugin into per-frame field lists."""
import json


def _pairs(pairs):
    return pairs  # keep duplicate keys: a list of (key, value) in order


def _walk(node):
    """Yields (key, value) for every field under a JSON object kept as pairs."""
    if not isinstance(node, list):
        return
    for key, value in node:
        if isinstance(value, list):
            if not key.endswith("_tree"):
                yield key, None
            yield from _walk(value)
        else:
            yield key, value


def _get(pairs, key):
    for k, v in pairs:
        if k == key:
            return v
    return None


class Decoded:
    """The pop3 fields of every frame of one tshark run."""

    def __init__(self, text):
        self.frames = []  # (frame number, [(field, value), ...])
        for packet in json.loads(text, object_pairs_hook=_pairs) if text.strip() else []:
            layers = _get(_get(packet, "_source"), "layers")
            number = None
            fields = []
            for key, value in layers:
                if key == "frame" and isinstance(value, list):
                    number = int(_get(value, "frame.number"))
                elif key == "pop3":
                    fields.extend(_walk(value))
            self.frames.append((number, fields))

    def values(self, field, frame=None):
        """Every value of a field, in order (None for fields without a value)."""
        out = []
        for number, fields in self.frames:
            if frame is not None and number != frame:
                continue
            out.extend(v for k, v in fields if k == field)
        return out

    def has(self, field, frame=None):
        return any(True for number, fields in self.frames
                   if frame is None or number == frame
                   for k, v in fields if k == field)

    def frames_with(self, field, value=None):
        return [number for number, fields in self.frames
                if any(k == field and (value is None or v == value) for k, v in fields)]

    def per_frame(self, field):
        return {number: [v for k, v in fields if k == field] for number, fields in self.frames}

    def pop3_frames(self):
        """Numbers of the frames with at least one pop3 field."""
        return [number for number, fields in self.frames if fields]
