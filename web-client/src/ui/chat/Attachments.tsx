// A message's attachments: images inline as their thumbnails (in a box sized from their pixels, so nothing jumps
// when they load; a click opens the viewer), other files as download chips (kind, name, size). Media URLs carry
// the media token; an image keeps the URL it loaded with, and takes the current token only if that one fails
// (an expired token), so a renewed token does not reload every picture.
import { useEffect, useState } from 'react';
import type { Attachment } from '../../api/types';
import { fileKind, formatSize, isImage, mediaUrl, thumbBox } from '../../logic/attachments';
import { Icon } from '../Icon';

/** The URL of `url` with a token that stays put while it works. */
export function useMediaSrc(url: string, token: string | null): { src: string | null; onError: () => void } {
  const [pinned, setPinned] = useState(token);
  useEffect(() => {
    if (!pinned && token) setPinned(token);
  }, [pinned, token]);
  return {
    src: mediaUrl(url, pinned ?? token),
    onError: () => {
      if (token && token !== pinned) setPinned(token);
    },
  };
}

export function MessageAttachments({ attachments, token, onOpen }: { attachments: readonly Attachment[]; token: string | null; onOpen: (index: number) => void }) {
  const images = attachments.filter(isImage);
  const files = attachments.filter((a) => !isImage(a));
  return (
    <div className="attachments">
      {images.length > 0 && (
        <div className={`att-images${images.length > 1 ? ' grid' : ''}`}>
          {images.map((a, i) => (
            <ImageTile key={a.id} a={a} token={token} tile={images.length > 1} onOpen={() => onOpen(i)} />
          ))}
        </div>
      )}
      {files.map((a) => (
        <FileChip key={a.id} a={a} token={token} />
      ))}
    </div>
  );
}

function ImageTile({ a, token, tile, onOpen }: { a: Attachment; token: string | null; tile: boolean; onOpen: () => void }) {
  const { src, onError } = useMediaSrc(a.thumbnail_url ?? a.url, token);
  // Several images share a grid of square tiles; one alone takes its own shape.
  const box = tile ? { width: 140, height: 140 } : thumbBox(a.width, a.height);
  return (
    <button type="button" className="att-image" style={box} onClick={onOpen} aria-label={`Open image ${a.name}`} title={a.name} data-testid="attachment-image">
      {src && <img src={src} alt={a.name} width={box.width} height={box.height} decoding="async" onError={onError} draggable={false} />}
    </button>
  );
}

function FileChip({ a, token }: { a: Attachment; token: string | null }) {
  const href = mediaUrl(a.url, token);
  return (
    <a className="att-file" href={href ?? undefined} download={a.name} data-testid="attachment-file" title={`Download ${a.name}`} aria-label={`Download ${a.name}, ${formatSize(a.size)}`}>
      <span className="att-file-icon" aria-hidden="true">
        {fileKind(a.name)}
      </span>
      <span className="att-file-text">
        <span className="att-file-name" data-testid="attachment-name">
          {a.name}
        </span>
        <span className="att-file-size" data-testid="attachment-size">
          {formatSize(a.size)}
        </span>
      </span>
      <span className="att-file-download" aria-hidden="true">
        <Icon name="download" />
      </span>
    </a>
  );
}
