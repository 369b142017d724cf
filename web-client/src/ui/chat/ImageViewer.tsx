// The image viewer: a native modal <dialog> over the conversation with the full image (its thumbnail shows while
// it loads, in a box of the image's shape), its name and size, a download link, and a close button; Escape or a
// click beside the image closes it, and the arrow keys step through the images of the message.
import { useEffect, useRef, useState } from 'react';
import type { Attachment } from '../../api/types';
import { formatSize, mediaUrl } from '../../logic/attachments';
import { Icon } from '../Icon';

export function ImageViewer({ images, start, token, onClose }: { images: readonly Attachment[]; start: number; token: string | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [index, setIndex] = useState(Math.min(start, images.length - 1));
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  const a = images[index];
  if (!a) return null;
  const full = mediaUrl(a.url, token);
  const thumb = a.thumbnail_url ? mediaUrl(a.thumbnail_url, token) : null;
  const many = images.length > 1;
  const step = (by: number) => setIndex((i) => (i + by + images.length) % images.length);
  return (
    <dialog
      ref={ref}
      className="viewer"
      aria-label={`Image ${a.name}`}
      data-testid="image-viewer"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === e.currentTarget || (e.target as HTMLElement).classList.contains('viewer-stage')) onClose();
      }}
      onKeyDown={(e) => {
        if (!many) return;
        if (e.key === 'ArrowLeft') step(-1);
        if (e.key === 'ArrowRight') step(1);
      }}
    >
      <header className="viewer-head">
        <div className="viewer-title">
          <strong title={a.name}>{a.name}</strong>
          <span>
            {a.width && a.height ? `${a.width} × ${a.height} · ` : ''}
            {formatSize(a.size)}
            {many ? ` · ${index + 1} of ${images.length}` : ''}
          </span>
        </div>
        {full && (
          <a className="viewer-button" href={full} download={a.name} data-testid="viewer-download">
            <Icon name="download" /> Download
          </a>
        )}
        <button type="button" className="viewer-button" onClick={onClose} aria-label="Close viewer" autoFocus>
          <Icon name="close" />
        </button>
      </header>
      <div className="viewer-stage">
        {many && (
          <button type="button" className="viewer-step prev" onClick={() => step(-1)} aria-label="Previous image">
            <Icon name="left" />
          </button>
        )}
        {full && (
          <img
            key={a.id}
            className="viewer-image"
            src={full}
            alt={a.name}
            width={a.width ?? undefined}
            height={a.height ?? undefined}
            style={thumb ? { backgroundImage: `url("${thumb.replace(/["\\\n]/g, encodeURIComponent)}")` } : undefined}
            data-testid="viewer-image"
          />
        )}
        {many && (
          <button type="button" className="viewer-step next" onClick={() => step(1)} aria-label="Next image">
            <Icon name="right" />
          </button>
        )}
      </div>
    </dialog>
  );
}
